"""The CNNs Lantern trains and ships, by name. Each builder returns a fresh torch module."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

CIFAR_WIDTHS = (32, 64, 128, 224)  # prep, layer1, layer2, layer3: 1,332,266 parameters


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


def conv_bn_relu(inputs: int, outputs: int) -> nn.Sequential:
    """A 3x3 convolution (same size), BatchNorm and ReLU; BatchNorm folds into it at export."""
    return _named(
        conv=nn.Conv2d(inputs, outputs, 3, 1, 1, bias=False),
        bn=nn.BatchNorm2d(outputs),
        relu=nn.ReLU(),
    )


class Residual(nn.Module):
    """x + f(x), f two conv_bn_relu units of the same width (no ReLU after the sum)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.unit1, self.unit2 = conv_bn_relu(width, width), conv_bn_relu(width, width)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.unit2(self.unit1(x))


class Scale(nn.Module):
    """Multiply by a constant: softer logits train better with label smoothing (Page 2018)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return x * self.factor


def cifar_resnet(widths: tuple[int, int, int, int] = CIFAR_WIDTHS) -> nn.Module:
    """A ResNet-9 for CIFAR (D. Page, "How to train your ResNet", 2018), at about half width:
    a prep convolution, three layers that each widen and halve the size (conv, max pool),
    residual blocks after the first and the last, global max pooling and one dense layer.
    Few, wide layers at small sizes: it learns in fewer epochs than ResNet-20 and keeps both
    CPU cores busy."""
    prep, width1, width2, width3 = widths
    return _named(
        prep=conv_bn_relu(3, prep),  # 32@32x32
        layer1=_named(unit=conv_bn_relu(prep, width1), pool=nn.MaxPool2d(2),
                      residual=Residual(width1)),  # 64@16x16
        layer2=_named(unit=conv_bn_relu(width1, width2), pool=nn.MaxPool2d(2)),  # 128@8x8
        layer3=_named(unit=conv_bn_relu(width2, width3), pool=nn.MaxPool2d(2),
                      residual=Residual(width3)),  # 224@4x4
        pool=nn.AdaptiveMaxPool2d(1),
        flatten=nn.Flatten(),
        fc=nn.Linear(width3, 10),
        scale=Scale(0.125),
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
    bfloat16: bool = False  # train with bfloat16 autocast (the export is float32)


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
        summary="A ResNet-9 for CIFAR (Page 2018) at about half width: five 3x3 convolutions "
        "(32 to 224 channels) with BatchNorm and max pooling, two residual blocks, global max "
        "pooling, one dense layer.",
        input_size=32,
        cam_layer="/layer3/residual/Add_output_0",
        feature_layers=(
            "/prep/relu/Relu_output_0",
            "/layer1/residual/Add_output_0",
            "/layer2/pool/MaxPool_output_0",
            "/layer3/residual/Add_output_0",
        ),
        epochs=40,  # about 65 minutes on 2 quiet cores at ~475 images/s (see the README)
        batch_size=512,
        learning_rate=0.4,  # the one-cycle peak
        dataset="image_folder",
        augmentation="crop_flip",
        optimiser="sgd",
        weight_decay=5e-4,
        label_smoothing=0.2,
        channels_last=True,
        bfloat16=True,
    ),
}
