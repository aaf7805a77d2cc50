"""Response bodies shared by the routers (they become the OpenAPI schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.imaging.hints import Hint
from app.store.manifest import ClassScore


class ImageResult(BaseModel):
    predictions: list[ClassScore] = Field(description="best first")
    hints: list[Hint] = Field(default=[], description="why the answer may mean little")


class PredictTiming(BaseModel):
    decode_ms: float = Field(description="decoding and preprocessing")
    inference_ms: float = Field(description="the onnxruntime run")
    total_ms: float


class PredictResponse(BaseModel):
    model: str
    version: int
    predictions: list[ClassScore] = Field(description="the first image's classes, best first")
    results: list[ImageResult] = Field(description="one entry per image, in request order")
    hints: list[Hint] = Field(default=[], description="the first image's hints")
    timing: PredictTiming


class ModelSummary(BaseModel):
    name: str
    version: int
    versions: list[int]
    description: str
    classes: int
    input: dict[str, Any]


class GradientCheck(BaseModel):
    passed: bool = Field(description="whether the gradient methods were switched on")
    error: float = Field(
        description="largest relative disagreement of the explain graph's gradients (input and "
        "CAM layer, per sample) with central differences of the model's forward pass"
    )
    tolerance: float
    resolution: float = Field(
        description="the central differences' own uncertainty, relative, where the largest "
        "disagreement was found (a figure within 4 times it passes)"
    )
    worst: str = Field(description="where the largest disagreement was found")
    seconds: float = Field(description="time the check took (at load, or on first use)")


class GradientSupport(BaseModel):
    available: bool = Field(description="whether the gradient methods work for this model")
    status: Literal["verified", "pending", "unchecked", "unsupported", "unverified"] = Field(
        description="verified: the self-check passed; pending: it runs with the first gradient "
        "request (LANTERN_EXPLAIN_GRAPHS=lazy); unsupported or unverified: the methods are off"
    )
    code: str | None = Field(description="gradients_unsupported or gradients_unverified")
    error: str | None = Field(description="why not: the op without a rule, or the self-check")
    check: GradientCheck | None = Field(description="the self-check (null: not run yet)")
    build_seconds: float = Field(
        description="time to build the default explain graphs and their sessions (0 until "
        "their first use with LANTERN_EXPLAIN_GRAPHS=lazy)"
    )
    session_bytes: int = Field(description="extra resident memory of those sessions")
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
