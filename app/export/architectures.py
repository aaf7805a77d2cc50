"""The CNNs Lantern trains and ships, by name. Each builder returns a fresh torch module."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

CIFAR_WIDTHS, CIFAR_BLOCKS = (16, 32, 64), 3  # ResNet-20: 6 x 3 + 2 weighted layers


def mnist_cnn() -> nn.Module:
    """The classic Keras MNIST example, layer for layer (1,199,882 parameters)."""
    return _named(
        conv1=nn.Conv2d(1, 32, 3), relu1=nn.ReLU(),  # 32@26x26
        conv2=nn.Conv2d(32, 64, 3), relu2=nn.ReLU(),  # 64@24x24
        pool=nn.MaxPool2d(2),  # 64@12x12
        dropout1=nn.Dropout(0.25),
        flatten=nn.Flatten(),
        dense1=nn.Linear(9216, 128), relu3=nn.ReLU(),
        dropout2=nn.Dropout(0.5),
        dense2=nn.Linear(128, 10),
    )  # fmt: skip


def lenet5() -> nn.Module:
    """LeNet-5 (LeCun et al. 1998) on a 32x32 input: C1 6@28x28, S2, C3 16@10x10, S4, C5 120,
    F6 84, 10 outputs. Modernised: ReLU for the scaled tanh, max pooling for the trainable
    subsampling, a full C3 connection table, and a linear output with softmax cross-entropy
    in place of the RBF units (see the README)."""
    return _named(
        c1=nn.Conv2d(1, 6, 5), relu1=nn.ReLU(),  # 6@28x28
        s2=nn.MaxPool2d(2),  # 6@14x14
        c3=nn.Conv2d(6, 16, 5), relu3=nn.ReLU(),  # 16@10x10
        s4=nn.MaxPool2d(2),  # 16@5x5
        c5=nn.Conv2d(16, 120, 5), relu5=nn.ReLU(),  # 120@1x1
        flatten=nn.Flatten(),
        f6=nn.Linear(120, 84), relu6=nn.ReLU(),
        output=nn.Linear(84, 10),
    )  # fmt: skip


class BasicBlock(nn.Module):
    """He et al. 2016's basic residual block: two 3x3 convolutions with BatchNorm, plus the
    input (through a 1x1 convolution and BatchNorm where the shape changes), then ReLU."""

    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1, self.relu1 = nn.BatchNorm2d(outputs), nn.ReLU()
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2, self.relu2 = nn.BatchNorm2d(outputs), nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = _named(
                conv=nn.Conv2d(inputs, outputs, 1, stride, bias=False), bn=nn.BatchNorm2d(outputs)
            )

    def forward(self, x: Tensor) -> Tensor:
        residual = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(residual + self.shortcut(x))


def cifar_resnet(widths: tuple[int, ...] = CIFAR_WIDTHS, blocks: int = CIFAR_BLOCKS) -> nn.Module:
    """A CIFAR ResNet (He et al. 2016, section 4.2): a 3x3 stem, three stages of basic blocks
    at 32x32, 16x16 and 8x8 (the first block of a later stage halves the size), global average
    pooling and one dense layer. BatchNorm folds into the convolutions at export."""
    stages = {}
    previous = widths[0]
    for index, width in enumerate(widths):
        stages[f"stage{index + 1}"] = _named(
            **{
                f"block{b + 1}": BasicBlock(
                    previous if b == 0 else width, width, 2 if index and not b else 1
                )
                for b in range(blocks)
            }
        )
        previous = width
    return _named(
        stem=_named(conv=nn.Conv2d(3, widths[0], 3, 1, 1, bias=False),
                    bn=nn.BatchNorm2d(widths[0]), relu=nn.ReLU()),  # 16@32x32
        **stages,
        pool=nn.AdaptiveAvgPool2d(1),
        flatten=nn.Flatten(),
        fc=nn.Linear(widths[-1], 10),
    )  # fmt: skip


def _named(**layers: nn.Module) -> nn.Sequential:
    """A Sequential whose layer names become readable ONNX tensor names (`/conv2/Conv_output_0`)."""
    return nn.Sequential(OrderedDict(layers))


@dataclass(frozen=True)
class Architecture:
    """A shipped architecture and what its store entry needs to know."""

    build: Callable[[], nn.Module]
    summary: str
    input_size: int
    cam_layer: str  # ONNX tensor name of the last conv block's output
    feature_layers: tuple[str, ...]
    epochs: int
    batch_size: int
    learning_rate: float
    dataset: str = "mnist"  # or "image_folder" (`root/<class>/*.jpg`, a folder or a tar)
    augmentation: str = "affine"  # a key of train.AUGMENTATIONS
    optimiser: str = "adamw"  # or "sgd"
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    channels_last: bool = False


ARCHITECTURES: dict[str, Architecture] = {
    "mnist_cnn": Architecture(
        build=mnist_cnn,
        summary="The classic Keras MNIST CNN: two 3x3 convolutions, max pooling, two dense layers.",
        input_size=28,
        cam_layer="/relu2/Relu_output_0",
        feature_layers=("/relu1/Relu_output_0", "/relu2/Relu_output_0", "/pool/MaxPool_output_0"),
        epochs=12,
        batch_size=128,
        learning_rate=2e-3,
    ),
    "lenet5": Architecture(
        build=lenet5,
        summary="LeNet-5 (LeCun et al. 1998), modernised with ReLU and max pooling.",
        input_size=32,
        cam_layer="/relu3/Relu_output_0",
        feature_layers=(
            "/relu1/Relu_output_0",
            "/s2/MaxPool_output_0",
            "/relu3/Relu_output_0",
            "/s4/MaxPool_output_0",
        ),
        epochs=15,
        batch_size=128,
        learning_rate=3e-3,
    ),
    "cifar_resnet": Architecture(
        build=cifar_resnet,
        summary="A CIFAR ResNet-20 (He et al. 2016): 19 3x3 convolutions in three residual "
        "stages (16, 32, 64 channels) with BatchNorm, global average pooling, one dense layer.",
        input_size=32,
        cam_layer="/stage3/block3/relu2/Relu_output_0",
        feature_layers=(
            "/stem/relu/Relu_output_0",
            "/stage1/block3/relu2/Relu_output_0",
            "/stage2/block3/relu2/Relu_output_0",
            "/stage3/block3/relu2/Relu_output_0",
        ),
        epochs=45,  # about 64 minutes on 2 quiet cores at ~550 images/s (see the README)
        batch_size=128,
        learning_rate=0.2,  # the one-cycle peak
        dataset="image_folder",
        augmentation="crop_flip",
        optimiser="sgd",
        weight_decay=5e-4,
        label_smoothing=0.1,
        channels_last=True,
    ),
}
