"""The model a /v2 path names: `/models/{model_name}` (its highest version) or
`/models/{model_name}/versions/{model_version}`, as typed dependencies, and its metadata."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from app.api.deps import RegistryDep
from app.api.v2.schemas import FP32, ModelMetadata, TensorMetadata
from app.api.v2.tensors import bad_request
from app.errors import VersionNotFoundError
from app.runtime.model import RunningModel
from app.runtime.registry import ModelRegistry

PLATFORM = "onnxruntime_onnx"
MAX_VERSION_DIGITS = 18  # a longer number is no version (and beyond Python's int-string limit)
MAX_VERSION_TEXT = 40  # the path's version is at most this long (a longer one: 400)

ModelName = Annotated[str, Path(description="model name")]
ModelVersion = Annotated[
    str,
    Path(description="model version (a number)", pattern=r"^[0-9]+$", max_length=MAX_VERSION_TEXT),
]


def find_model(registry: ModelRegistry, name: str, version: str | None) -> RunningModel:
    if version is not None and not (version.isascii() and version.isdecimal()):
        raise bad_request(f"Model version '{version[:40]}' is not a number.")
    if version is not None and len(version) > MAX_VERSION_DIGITS:
        raise VersionNotFoundError(f"Model '{name}' has no version {version[:20]}...")
    return registry.get(name, int(version) if version else None)


async def get_latest_model(registry: RegistryDep, model_name: ModelName) -> RunningModel:
    return find_model(registry, model_name, None)


async def get_versioned_model(
    registry: RegistryDep, model_name: ModelName, model_version: ModelVersion
) -> RunningModel:
    return find_model(registry, model_name, model_version)


LatestModelDep = Annotated[RunningModel, Depends(get_latest_model)]
VersionedModelDep = Annotated[RunningModel, Depends(get_versioned_model)]


def classes(model: RunningModel) -> int:
    dims = model.graph.graph.output[0].type.tensor_type.shape.dim
    last = dims[-1].dim_value if len(dims) > 1 else 0
    return last or model.manifest.classes


def metadata(registry: ModelRegistry, model: RunningModel) -> ModelMetadata:
    """A model's versions, platform, input and output tensors."""
    spec = model.spec
    return ModelMetadata(
        name=model.name,
        versions=[str(v) for v in registry.versions(model.name)],
        platform=PLATFORM,
        inputs=[
            TensorMetadata(name=spec.name, datatype=FP32, shape=[-1, *spec.batch_shape(1)[1:]])
        ],
        outputs=[TensorMetadata(name=model.output_name, datatype=FP32, shape=[-1, classes(model)])],
    )
