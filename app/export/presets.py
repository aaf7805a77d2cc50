"""Preprocessing presets for `python -m app.export import --preset NAME`: data, not code.

A preset fills in what an ONNX file does not say: the input size where the graph leaves it
open, how to resize, the mean and std, the background, digit normalisation and the labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

IMAGENET_LABELS_FILE = Path(__file__).with_name("imagenet_labels.txt")
CIFAR10_LABELS = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
MNIST_LABELS = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True)
class Preset:
    """Input spec and preprocessing of a family of models, in manifest terms."""

    channels: int
    size: int  # height and width of the input tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: str = "stretch"
    resize_shorter_to: int | None = None
    background: str = "black"
    digit: dict[str, int] | None = None
    labels: tuple[str, ...] = ()
    labels_file: Path | None = None  # shipped labels, one a line, when there are many
    note: str = field(default="", compare=False)

    def default_labels(self) -> tuple[str, ...]:
        if self.labels_file is not None:
            return read_labels(self.labels_file)
        return self.labels


PRESETS: dict[str, Preset] = {
    "imagenet": Preset(
        channels=3,
        size=224,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        resize="center_crop",
        resize_shorter_to=256,
        labels_file=IMAGENET_LABELS_FILE,
        note="torchvision/timm ImageNet-1k: shorter side 256, centre crop 224",
    ),
    "cifar10": Preset(
        channels=3,
        size=32,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        resize="center_crop",
        resize_shorter_to=32,
        labels=CIFAR10_LABELS,
        note="CIFAR-10: shorter side 32, centre crop 32, training-set mean and std",
    ),
    "mnist": Preset(
        channels=1,
        size=28,
        mean=(0.1307,),
        std=(0.3081,),
        background="contrast",
        digit={"box": 20, "canvas": 28},
        labels=MNIST_LABELS,
        note="MNIST: 28x28 grey, digit centred by mass as in MNIST",
    ),
}


def read_labels(path: Path) -> tuple[str, ...]:
    """Class names, one a line in index order; surrounding spaces and blank lines dropped."""
    return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
