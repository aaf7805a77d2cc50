"""A small zoo of torch image classifiers and an in-memory ONNX export helper.

Shared by the gradient-engine and explanation-method tests. Every net uses its own
nn.ReLU instances (not F.relu), so Captum's GuidedBackprop/Deconvolution hooks see them,
and declares `input_shape` (C, H, W) and `cam_layer` (the module path of its last
convolutional activation).
"""

from __future__ import annotations

import io
import warnings

import onnx
import torch
from torch import nn


class MNISTCNN(nn.Module):
    """The classic Keras MNIST CNN."""

    input_shape, cam_layer = (1, 28, 28), "features.3"

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(128, 10),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """LeNet-5 on 32x32 inputs (max pools, ReLU)."""

    input_shape, cam_layer = (1, 32, 32), "features.4"

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 120, 5), nn.ReLU(),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """ResNet basic block; a strided 1x1 conv + BN shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1, self.relu1 = nn.BatchNorm2d(cout), nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2, self.relu2 = nn.BatchNorm2d(cout), nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


class ResNetTiny(nn.Module):
    """ResNet-style: stem, two residual stages (one strided), global average pool."""

    input_shape, cam_layer = (3, 16, 16), "layer2.relu2"

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.layer1, self.layer2 = BasicBlock(8, 8, 1), BasicBlock(8, 16, 2)
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 project (ReLU6)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + out if self.use_residual else out


class MobileNetV2Tiny(nn.Module):
    """MobileNetV2-style: depthwise convs, ReLU6, inverted residuals."""

    input_shape, cam_layer = (3, 16, 16), "head.2"

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6()
        )
        self.blocks = nn.Sequential(
            InvertedResidual(8, 8, 1, 4),
            InvertedResidual(8, 12, 2, 4),
            InvertedResidual(12, 12, 1, 4),
        )
        self.head = nn.Sequential(nn.Conv2d(12, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(x.mean(dim=(2, 3)))


class InceptionBlock(nn.Module):
    """1x1, 1x1->3x3, 1x1->5x5 and 3x3 avg-pool->1x1 branches, concatenated."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU())
        self.b3 = nn.Sequential(
            nn.Conv2d(cin, 6, 1), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU()
        )
        self.b5 = nn.Sequential(
            nn.Conv2d(cin, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 5, padding=2), nn.ReLU()
        )
        self.bp = nn.Sequential(nn.AvgPool2d(3, 1, 1), nn.Conv2d(cin, 8, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


class InceptionTiny(nn.Module):
    """Inception-style: stem, one inception block, avg pool (no pad), classifier."""

    input_shape, cam_layer = (3, 16, 16), "block"

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.block = InceptionBlock(16)
        self.pool = nn.AvgPool2d(3, 2, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.block(self.stem(x))), 1))


class AlexNetTiny(nn.Module):
    """AlexNet-style: large strided first conv, overlapping 3x3/2 max pools, dropout MLP."""

    input_shape, cam_layer = (3, 32, 32), "features.9"

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 5, 2, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(16, 24, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(24, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(), nn.Linear(32 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


ZOO: dict[str, type[nn.Module]] = {
    "mnist_cnn": MNISTCNN,
    "lenet5": LeNet5,
    "resnet_tiny": ResNetTiny,
    "mobilenet_v2_tiny": MobileNetV2Tiny,
    "inception_tiny": InceptionTiny,
    "alexnet_tiny": AlexNetTiny,
}


def make_net(name: str, seed: int = 0) -> nn.Module:
    """A zoo net in eval mode with random weights (and non-trivial BatchNorm statistics)."""
    torch.manual_seed(seed)
    net = ZOO[name]()
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def export_onnx(net: nn.Module, opset: int = 17, dynamo: bool = False) -> onnx.ModelProto:
    """Export `net` with input `input` (N, *net.input_shape) and output `logits`, N dynamic.

    `net` must be in eval mode: BatchNormalization is then exported in inference form.
    """
    example = (torch.randn(2, *net.input_shape),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            batch = {"x": {0: torch.export.Dim("N", min=1, max=64)}}
            program = torch.onnx.export(
                net, example, dynamo=True, opset_version=opset, input_names=["input"],
                output_names=["logits"], dynamic_shapes=batch, verbose=False,
            )  # fmt: skip
            return program.model_proto
        buffer = io.BytesIO()
        torch.onnx.export(
            net, example, buffer, dynamo=False, opset_version=opset, input_names=["input"],
            output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            training=torch.onnx.TrainingMode.PRESERVE,  # keeps BatchNormalization unfused
        )  # fmt: skip
    return onnx.load_from_string(buffer.getvalue())


def _module_path(node_name: str) -> str:
    """'/features/features.3/Relu' -> 'features.3'; '/layer2/relu2/Relu' -> 'layer2.relu2'."""
    scopes, parts = node_name.strip("/").split("/")[:-1], []
    for index, scope in enumerate(scopes):
        parent = scopes[index - 1] + "." if index else ""
        parts.append(scope[len(parent) :] if parent and scope.startswith(parent) else scope)
    return ".".join(parts)


def onnx_tensor_of(model: onnx.ModelProto, module_path: str) -> str:
    """Output tensor of the last node exported from torch module `module_path` (legacy exporter)."""
    outputs = [
        node.output[0]
        for node in model.graph.node
        if (_module_path(node.name) + ".").startswith(module_path + ".")
    ]
    if not outputs:
        raise KeyError(module_path)
    return outputs[-1]
