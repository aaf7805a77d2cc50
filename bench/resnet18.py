"""A ResNet-18 (He et al. 2016) in torch with random weights, for the benchmarks: the
ImageNet layout at 224x224, 1000 classes, 11.7 M parameters. `to_onnx` gives it to the
explain benchmark; `write_resnet18_entry` writes it as a store entry for the load benchmark."""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from app.export.onnx_export import export_onnx, utc_now, write_entry

NAME = "resnet18_like"


class BasicBlock(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.relu2 = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(
                nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    input_shape = (3, 224, 224)
    cam_layer = "layer4.1.relu2"

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        )  # fmt: skip
        widths, blocks, inputs = (64, 128, 256, 512), [], 64
        for stage, width in enumerate(widths):
            stride = 1 if stage == 0 else 2
            blocks.append(
                nn.Sequential(BasicBlock(inputs, width, stride), BasicBlock(width, width, 1))
            )
            inputs = width
        self.layer1, self.layer2, self.layer3, self.layer4 = blocks
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(torch.flatten(self.pool(x), 1))


def resnet18(classes: int = 1000, seed: int = 0) -> ResNet18:
    torch.manual_seed(seed)
    return ResNet18(classes).eval()


def to_onnx(net: nn.Module, shape: tuple[int, ...]) -> onnx.ModelProto:
    """`export_onnx` (opset 17, dynamic batch; input `input`, output `logits`), quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return onnx.load_from_string(export_onnx(net, torch.zeros(1, *shape)))


def write_resnet18_entry(store: Path, classes: int = 1000) -> Path:
    """The ResNet-18 (seed 0) as a store entry named NAME, for the load benchmark."""
    model = resnet18(classes)
    onnx_bytes = export_onnx(model, torch.zeros(1, 3, 224, 224))
    fields = {
        "name": NAME,
        "description": "ResNet-18-shaped, random weights (benchmark only)",
        "labels": [f"class_{i}" for i in range(classes)],
        "input": {"name": "input", "channels": 3, "height": 224, "width": 224},
        "preprocess": {
            "resize": "center_crop",
            "resize_shorter_to": 256,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
        "provenance": {
            "architecture": "resnet18 (bench/resnet18.py)",
            "data": "none (random weights)",
            "export_command": "python -m bench.load",
            "created": utc_now(),
        },
    }
    return write_entry(onnx_bytes, fields, store)
