"""A stand-in for the few torchvision names timm and zennit import when they are imported.

timm 1.0 imports torchvision at import time (transforms, datasets and ops.misc for its data
pipeline and FrozenBatchNorm2d), but building a model and running it needs none of it. The
torchvision wheel does not load beside the CPU torch build the tests run on ("operator
torchvision::nms does not exist"), so `install()` puts these modules in sys.modules before
`import timm`. Every name they are asked for is a placeholder class: it can be imported,
subclassed, compared and used as a dict key, and its attributes are placeholders too, but
calling one raises, so nothing can quietly use torchvision behaviour that is not there.
Tests only: the server never imports timm or torchvision.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types

MODULES = (
    "torchvision",
    "torchvision.datasets",
    "torchvision.models",
    "torchvision.models.feature_extraction",
    "torchvision.models.resnet",
    "torchvision.ops",
    "torchvision.ops.misc",
    "torchvision.transforms",
    "torchvision.transforms.functional",
    "torchvision.transforms.v2",
)


class _PlaceholderType(type):
    """Class-level attribute access on a placeholder gives another placeholder."""

    def __getattr__(cls, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(f"{cls.__qualname__}.{name}")


def _placeholder(qualname: str) -> type:
    def refuse(self, *args, **kwargs):
        raise RuntimeError(f"{qualname} comes from the torchvision stand-in of the tests")

    return _PlaceholderType(
        qualname.rsplit(".", 1)[-1],
        (),
        {"__init__": refuse, "__call__": refuse, "__qualname__": qualname},
    )


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


def install() -> None:
    """Put the stand-in modules in sys.modules (unless torchvision is already imported)."""
    if "torchvision" in sys.modules:
        return
    for name in MODULES:
        module = _StandInModule(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        module.__path__ = []  # a package, so submodule imports find the entries below
        module.__version__ = "0.0+stand-in"
        sys.modules[name] = module
    for name in MODULES[1:]:
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, sys.modules[name])
