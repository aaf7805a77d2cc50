"""Bodies of the Open Inference Protocol (KServe v2) REST API, as pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Tensor datatypes Lantern accepts on input: image tensors, and encoded images.
FP32, BYTES = "FP32", "BYTES"


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int] = Field(description="-1 marks a variable dimension (the batch)")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class ServerLive(BaseModel):
    live: bool


class ServerReady(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class RequestInput(BaseModel):
    """One input tensor: `data` (flat or nested, row-major) or `binary_data_size` bytes of the
    binary part of the body (binary tensor data extension)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    shape: list[int] = Field(max_length=8)
    datatype: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    data: Any = None


class RequestOutput(BaseModel):
    """A requested output; `parameters` may hold `binary_data` (bool) and
    `classification` (k: return the top k classes as "score:index:label" strings)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    """One output tensor: `data` in JSON, or `binary_data_size` bytes after the JSON header."""

    name: str
    datatype: str = Field(description="FP32 (the raw outputs) or BYTES (classification)")
    shape: list[int]
    data: list[float] | list[str] | None = None
    parameters: dict[str, Any] | None = None


class InferResponse(BaseModel):
    """The JSON part of an infer answer (with binary outputs, raw bytes follow it)."""

    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[ResponseOutput]
