"""Response bodies shared by the routers (they become the OpenAPI schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Prediction(BaseModel):
    index: int = Field(description="class index in the model's output")
    label: str
    probability: float = Field(ge=0, le=1)


class Hint(BaseModel):
    """A sign that the picture does not suit the model (the model still answers)."""

    code: str = Field(description="photo_for_digit_model or drawing_for_photo_model")
    message: str = Field(description="what looks wrong, in a sentence for people")


class InputRegion(BaseModel):
    """Where the model's input lies on the picture as uploaded (after EXIF orientation)."""

    width: int = Field(description="the uploaded picture's width in pixels")
    height: int = Field(description="and height")
    box: tuple[float, float, float, float] = Field(
        description="[left, top, right, bottom] of the part the model sees, in those pixels: "
        "the central crop, or the whole picture (stretch, digit normalisation)"
    )


class ImageResult(BaseModel):
    predictions: list[Prediction] = Field(description="best first")
    hints: list[Hint] = Field(default=[], description="why the answer may mean little")


class Timing(BaseModel):
    decode_ms: float = Field(description="decoding and preprocessing")
    inference_ms: float = Field(description="the onnxruntime run")
    total_ms: float


class PredictResponse(BaseModel):
    model: str
    version: int
    predictions: list[Prediction] = Field(description="the first image's classes, best first")
    results: list[ImageResult] = Field(description="one entry per image, in request order")
    hints: list[Hint] = Field(default=[], description="the first image's hints")
    timing: Timing


class ModelSummary(BaseModel):
    name: str
    version: int
    versions: list[int]
    description: str
    classes: int
    input: dict[str, Any]


class GradientSupport(BaseModel):
    available: bool = Field(description="whether the gradient methods work for this model")
    error: str | None = Field(description="why not, naming the op without a backward rule")
    build_seconds: float = Field(description="time to build the explain graph and its session")
    session_bytes: int = Field(description="extra resident memory of that session")
    cam_layer: str | None = Field(description="default layer for class activation maps")
    conv_layers: list[str] = Field(description="layers a CAM can use (`layer` parameter)")


class ModelDetail(ModelSummary):
    labels: list[str]
    preprocess: dict[str, Any]
    layers: dict[str, Any]
    output: str
    parameters: int
    sha256: str
    trained_on: str = Field(description="what the model learned from, in plain words")
    provenance: dict[str, Any]
    load_seconds: float
    gradients: GradientSupport


class ModelList(BaseModel):
    models: list[ModelSummary]
    refused: dict[str, str] = Field(description="store entries that could not be loaded, and why")


class Health(BaseModel):
    status: str
    models: int
