"""Bodies of KServe's V1 protocol, as pydantic models (they become the OpenAPI schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.explain.response import ExplainResponse
from app.store.manifest import ClassScore


class V1Request(BaseModel):
    """A :predict or :explain body. Each instance is an image, as {"b64": "<base64>"} (or an
    object with one such field, e.g. {"image": {"b64": ...}}, {"data": "<base64>"}, or a bare
    base64 string), or the model's input tensor as nested numbers (C, H, W) (or (H, W, C) for
    an NHWC model). `parameters` tune the answer (:predict: `top_k`; :explain: `method`, the
    method's parameters and the explanation options)."""

    instances: list[Any] = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)


class V1ModelReady(BaseModel):
    name: str
    ready: bool


class V1ModelList(BaseModel):
    models: list[str]


class V1Prediction(BaseModel):
    """One instance's classes: the best one, and the `top_k` best, best first."""

    index: int = Field(description="the best class's index in the model's output")
    label: str
    probability: float
    top_k: list[ClassScore]


class V1PredictResponse(BaseModel):
    predictions: list[V1Prediction] = Field(description="one per instance, in order")


class V1ExplainResponse(BaseModel):
    predictions: list[V1Prediction] = Field(description="one per instance, in order")
    explanations: list[ExplainResponse] = Field(
        description="one per instance: heatmaps as base64 PNG, raw maps with raw=json or npy"
    )
