"""The reference libraries the method tests and benchmarks compare against, imported once.

pytorch-grad-cam (`grad-cam`, installed with --no-deps: see pyproject.toml) imports
torchvision at import time, for image helpers and detection targets the tests never call. The
torchvision wheel does not load beside this torch, so while pytorch_grad_cam is imported a
stand-in `torchvision` module answers those imports (every name it offers raises if called);
it is removed again at once, so nothing else sees it (Zennit, `zennit_composites`, too).
(Trying the real wheel first would leave half of it registered with torch.) A torchvision
already imported is used as it is."""

from __future__ import annotations

import importlib
import sys
import types
from functools import cache
from typing import Any


def _unavailable(name: str) -> Any:
    def call(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"torchvision.{name} is a stand-in in the tests")

    return call


def _stand_in_torchvision() -> dict[str, types.ModuleType]:
    root = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    ops = types.ModuleType("torchvision.ops")
    for name in ("Compose", "Normalize", "ToTensor"):
        setattr(transforms, name, _unavailable(f"transforms.{name}"))
    functional.resize = _unavailable("transforms.functional.resize")  # type: ignore[attr-defined]
    ops.box_iou = _unavailable("ops.box_iou")  # type: ignore[attr-defined]
    transforms.functional = functional  # type: ignore[attr-defined]
    root.transforms, root.ops = transforms, ops  # type: ignore[attr-defined]
    return {
        "torchvision": root,
        "torchvision.transforms": transforms,
        "torchvision.transforms.functional": functional,
        "torchvision.ops": ops,
    }


@cache
def pytorch_grad_cam() -> types.ModuleType:
    """The pytorch_grad_cam package."""
    if "torchvision" in sys.modules:
        return importlib.import_module("pytorch_grad_cam")
    stand_ins = _stand_in_torchvision()
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("pytorch_grad_cam")
    finally:
        for name in stand_ins:
            sys.modules.pop(name, None)


@cache
def zennit_composites() -> types.ModuleType:
    """zennit.composites (Zennit imports torchvision's ResNet blocks for canonizers the
    benchmarks never use: the same stand-in answers while it is imported)."""
    if "torchvision" in sys.modules:
        return importlib.import_module("zennit.composites")
    stand_ins = _stand_in_torchvision()
    resnet = types.ModuleType("torchvision.models.resnet")
    resnet.Bottleneck = type("Bottleneck", (), {})  # type: ignore[attr-defined]
    resnet.BasicBlock = type("BasicBlock", (), {})  # type: ignore[attr-defined]
    models = types.ModuleType("torchvision.models")
    models.resnet = resnet  # type: ignore[attr-defined]
    stand_ins |= {"torchvision.models": models, "torchvision.models.resnet": resnet}
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("zennit.composites")
    finally:
        for name in stand_ins:
            sys.modules.pop(name, None)
