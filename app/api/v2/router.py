"""The Open Inference Protocol (KServe v2) REST API beside Lantern's own, so tritonclient and
KServe gateways work unchanged: server and model metadata, health, readiness and inference
with the classification and binary tensor data extensions.

An infer request has one input, named as the model's input: FP32 (N, C, H, W) tensors taken
as they are, or BYTES (N) encoded images preprocessed as /predict does. The output is the
model's raw output (N, K). Errors here are the protocol's `{"error": "..."}`.

The handler names follow the protocol's endpoint names (`server_live`, `server_ready`,
`model_metadata`, `model_ready`, `infer`), not the verb_noun style of Lantern's own routes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from app.api.deps import RegistryDep, Services, ServicesDep, services_of
from app.api.errors import APIError
from app.api.intake import json_schema
from app.api.offload import for_body, preprocessed_upload
from app.api.quick import quick_route
from app.api.v2.models import (
    MAX_VERSION_TEXT,
    LatestModelDep,
    VersionedModelDep,
    find_model,
    metadata,
)
from app.api.v2.schemas import (
    BYTES,
    FP32,
    InferRequest,
    InferResponse,
    ModelMetadata,
    ModelReady,
    RequestInput,
    RequestOutput,
    ServerLive,
    ServerMetadata,
    ServerReady,
)
from app.api.v2.tensors import (
    HEADER_LENGTH,
    BinaryReader,
    bad_request,
    bytes_elements,
    encode_response,
    fp32_tensor,
    output_tensor,
    parse_request,
)
from app.errors import validation_message
from app.runtime.model import RunningModel

EXTENSIONS = ["classification", "binary_tensor_data"]
INFER_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": json_schema(InferRequest)},
        "application/octet-stream": {
            "schema": {"type": "string", "format": "binary"},
            "description": "the JSON header, then binary tensors (Inference-Header-Content-Length)",
        },
    },
}


class V2Route(APIRoute):
    """A route whose invalid parameters are the protocol's 400, not FastAPI's 422. The error
    shape, `{"error": "..."}`, comes from `app.errors.error_response`, as for every /v2 path."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def v2_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                raise bad_request(validation_message(error.errors())) from error

        return v2_handler


TAG = "v2 (Open Inference Protocol)"
router = APIRouter(prefix="/v2", tags=[TAG], route_class=V2Route)  # metadata and health
infer_router = APIRouter(prefix="/v2", tags=[TAG], route_class=V2Route)  # not in role=explainer


@router.get("", response_model=ServerMetadata)
def server_metadata(request: Request) -> ServerMetadata:
    """Server name, version and the protocol extensions it supports."""
    return ServerMetadata(name="lantern", version=request.app.version, extensions=EXTENSIONS)


@router.get("/health/live", response_model=ServerLive)
def server_live() -> ServerLive:
    """The process is up."""
    return ServerLive(live=True)


@router.get(
    "/health/ready", response_model=ServerReady, responses={503: {"description": "not ready"}}
)
def server_ready(services: ServicesDep) -> ServerReady:
    """Every loadable model is loaded and the server is not shutting down."""
    problem = services.readiness_problem()
    if problem:
        raise APIError(503, "not_ready", problem)
    return ServerReady(ready=True)


@router.get("/models/{model_name}", response_model=ModelMetadata)
def model_metadata(registry: RegistryDep, model: LatestModelDep) -> ModelMetadata:
    """A model's versions, platform, input and output tensors (its highest version)."""
    return metadata(registry, model)


@router.get("/models/{model_name}/versions/{model_version}", response_model=ModelMetadata)
def model_version_metadata(registry: RegistryDep, model: VersionedModelDep) -> ModelMetadata:
    """A model version's versions, platform, input and output tensors."""
    return metadata(registry, model)


@router.get("/models/{model_name}/ready", response_model=ModelReady)
def model_ready(services: ServicesDep, model: LatestModelDep) -> ModelReady:
    """The model is loaded and can take requests."""
    return ModelReady(name=model.name, ready=services.readiness_problem() is None)


@router.get("/models/{model_name}/versions/{model_version}/ready", response_model=ModelReady)
def model_version_ready(services: ServicesDep, model: VersionedModelDep) -> ModelReady:
    """The model version is loaded and can take requests."""
    return ModelReady(name=model.name, ready=services.readiness_problem() is None)


async def infer(request: Request, services: ServicesDep, model: LatestModelDep) -> Response:
    """Run the model on FP32 tensors or encoded images (BYTES); see the module docstring."""
    return await run_infer(request, services, model)


async def infer_version(
    request: Request, services: ServicesDep, model: VersionedModelDep
) -> Response:
    """Run this model version on FP32 tensors or encoded images (BYTES)."""
    return await run_infer(request, services, model)


def infer_arguments(request: Request) -> dict[str, Any] | None:
    """`infer`'s and `infer_version`'s arguments for a version of plain digits (else None:
    FastAPI solves the request)."""
    path = request.path_params
    version = path.get("model_version")
    if version is not None and not (
        0 < len(version) <= MAX_VERSION_TEXT and version.isascii() and version.isdecimal()
    ):
        return None
    services = services_of(request.app)
    model = find_model(services.registry, path["model_name"], version)
    return {"request": request, "services": services, "model": model}


def add_infer_route(path: str, endpoint: Callable[..., Coroutine[Any, Any, Response]]) -> None:
    infer_router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=InferResponse,
        openapi_extra={"requestBody": INFER_REQUEST_BODY},
        route_class_override=quick_route(infer_arguments, V2Route),
    )


add_infer_route("/models/{model_name}/infer", infer)
add_infer_route("/models/{model_name}/versions/{model_version}/infer", infer_version)


async def run_infer(request: Request, services: Services, model: RunningModel) -> Response:
    if request.headers.get("content-encoding", "identity").strip().lower() != "identity":
        raise APIError(415, "unsupported_encoding", "Compressed request bodies are not supported.")
    batcher = services.batchers.for_model(model)
    batcher.refuse_if_full()  # before reading a body the queue has no room for
    body = await request.body()
    with batcher.admission():  # after the upload: a slow client holds no queue place
        deadline = services.deadline()
        header = request.headers.get(HEADER_LENGTH)
        most = services.settings.max_images_per_request
        parsed, inputs = await for_body(body, decode_infer, model, body, header, most)
        batch = (
            inputs
            if isinstance(inputs, np.ndarray)
            else await preprocessed_upload(
                model, inputs, services.image_limits, services.settings.inline_decode_pixels
            )
        )
        outputs = await batcher.logits(batch, deadline)
    return infer_response(model, parsed, outputs)


def decode_infer(
    model: RunningModel, body: bytes, header: str | None, max_images: int
) -> tuple[InferRequest, np.ndarray | list[bytes]]:
    """The request and its input, checked against the model: the batch (N, C, H, W) of an
    FP32 input, or the encoded images of a BYTES one."""
    parsed, binary = parse_request(body, header)
    if len(parsed.inputs) != 1:
        raise bad_request(f"Expected one input, got {len(parsed.inputs)}.")
    tensor = parsed.inputs[0]
    spec = model.spec
    if tensor.name != spec.name:
        raise bad_request(f"Unknown input '{tensor.name}'; the model's input is '{spec.name}'.")
    if tensor.datatype not in (FP32, BYTES):
        raise bad_request(f"Input datatype {tensor.datatype} is not supported; send FP32 or BYTES.")
    inputs = model_input(model, tensor, binary, max_images)
    binary.check_consumed()
    return parsed, inputs


def model_input(
    model: RunningModel, tensor: RequestInput, binary: BinaryReader, max_images: int
) -> np.ndarray | list[bytes]:
    """An FP32 input as the batch (N, C, H, W); a BYTES input as its encoded images."""
    count = tensor.shape[0] if tensor.shape else 0
    if not 1 <= count <= max_images:
        raise bad_request(f"The batch must hold 1 to {max_images} items.")
    if tensor.datatype == BYTES:
        if tensor.shape not in ([count], [count, 1]):
            raise bad_request(f"A BYTES input has shape [N] or [N, 1], not {tensor.shape}.")
        return bytes_elements(tensor, binary)
    expected = list(model.spec.batch_shape(count))
    if tensor.shape != expected:
        raise bad_request(f"Input shape {tensor.shape} does not match the model's {expected}.")
    return fp32_tensor(tensor, binary)


def infer_response(model: RunningModel, parsed: InferRequest, outputs: np.ndarray) -> Response:
    """JSON, or JSON then binary chunks with Inference-Header-Content-Length."""
    name = model.output_name
    wanted: list[RequestOutput | None] = [*parsed.outputs] if parsed.outputs else [None]
    unknown = [w.name for w in wanted if w is not None and w.name != name]
    if unknown:
        raise bad_request(f"Unknown output '{unknown[0]}'; the model's output is '{name}'.")
    binary = parsed.parameters.get("binary_data_output", False)
    entries, chunks = [], []
    for requested in wanted:
        entry, raw = output_tensor(name, outputs, requested, binary, model.manifest.labels)
        entries.append(entry)
        chunks += [raw] if raw is not None else []
    header: dict[str, Any] = {"model_name": model.name, "model_version": str(model.version)}
    if parsed.id is not None:
        header["id"] = parsed.id
    body, json_length = encode_response({**header, "outputs": entries}, chunks)
    if json_length is None:
        return Response(body, media_type="application/json")
    return Response(
        body, media_type="application/octet-stream", headers={HEADER_LENGTH: str(json_length)}
    )
