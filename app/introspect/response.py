"""The answers of the introspection routes, as types (they become the OpenAPI schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.runtime.jobs import JobSnapshot


class LayerInfo(BaseModel):
    name: str = Field(description="output tensor name")
    node: str
    op: str
    kind: str = Field(description="conv, pool, activation, dense or other")
    shape: list[int] = Field(description="output shape without the batch axis")


class LayerList(BaseModel):
    layers: list[LayerInfo]


class SummaryRow(BaseModel):
    name: str
    type: str = Field(description="Keras-style layer type (Conv2D, Dense, ...)")
    output_shape: list[int | None] = Field(description="batch first, as None")
    parameters: int
    macs: int = Field(description="multiply-accumulates at batch 1")
    trainable: bool
    trainable_parameters: int
    activation: str | None = Field(description="an activation folded into this row")
    nodes: list[str] = Field(description="the graph nodes this row stands for")


class Summary(BaseModel):
    model: str
    version: int
    rows: list[SummaryRow]
    total_parameters: int
    trainable_parameters: int
    non_trainable_parameters: int
    total_macs: int


class FilterGrid(BaseModel):
    model: str
    version: int
    layer: str = Field(description="the convolution's output tensor")
    node: str
    shape: list[int] = Field(description="weights (out, in / groups, k_h, k_w)")
    mode: str = Field(description="rgb, each or mean (see the route's `inputs`)")
    grid_png: str = Field(description="base64 PNG")


class ChannelStat(BaseModel):
    index: int
    mean: float
    max: float


class FeatureMaps(BaseModel):
    model: str
    version: int
    layer: str
    shape: list[int] = Field(description="the activation's shape without the batch axis")
    order: str
    grid_png: str = Field(description="base64 PNG: a labelled tile per channel")
    channels: list[ChannelStat] = Field(description="in display order")
    raw_npy: str | None = Field(default=None, description="with raw=npy: base64 .npy of (C, H, W)")
    raw: list | None = Field(default=None, description="with raw=json: the activation")


class JobStarted(BaseModel):
    job_id: str
    status_url: str = Field(description="GET it for progress; DELETE it to cancel")
    job: JobSnapshot
