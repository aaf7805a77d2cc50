"""KServe's V1 inference protocol beside Lantern's own API and the Open Inference Protocol
(/v2), so that Lantern serves as a KServe predictor and, above all, as its explainer: KServe
routes `:explain` with the V1 protocol only.

- `GET /v1/models` and `GET /v1/models/{name}`: the models, and a model's readiness as KServe's
  model server answers it (200 `{"name", "ready": true}`, 503 while loading or draining, 404
  for an unknown model);
- `POST /v1/models/{name}:predict`: `{"instances": [...]}` -> `{"predictions": [...]}`, through
  the model's batcher like /predict;
- `POST /v1/models/{name}:explain`: the same body, the method and its parameters in
  `parameters` (or the query) -> `{"predictions": [...], "explanations": [...]}`, through the
  explain gate and the forward-pass budget like /explain/{method}.

Errors are KServe's `{"error": "..."}` (`app.api.errors`). Model names in these paths stop at
the first ':' (the `model_name` path convertor), so `GET .../{name}:predict` is a 405."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from app.api.deps import ServicesDep, services_of
from app.api.disconnect import run_unless_disconnected
from app.api.encoding import json_values
from app.api.errors import APIError
from app.api.offload import for_body, preprocessed_upload
from app.api.quick import quick_route
from app.api.v1 import codec
from app.api.v1.schemas import (
    V1ExplainResponse,
    V1ModelList,
    V1ModelReady,
    V1PredictResponse,
    V1Request,
)
from app.explain.response import ExplainResponse
from app.explain.service import ImageUpload, RequestLimits, explain_image
from app.runtime.model import RunningModel


class ModelNameConvertor(Convertor[str]):
    """A path segment up to the first ':' (KServe's `name:verb` paths)."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("model_name", ModelNameConvertor())

TAG = "v1 (KServe V1 protocol)"
V1_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": V1Request.model_json_schema()}},
    }
}
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "not ready"},
    404: {"description": "no such model"},
}
router = APIRouter(prefix="/v1", tags=[TAG])  # readiness and the model list
predict_router = APIRouter(prefix="/v1", tags=[TAG])
explain_router = APIRouter(prefix="/v1", tags=[TAG])


@router.get("/models", response_model=V1ModelList)
def list_models(services: ServicesDep) -> V1ModelList:
    """The names of the loaded models."""
    return V1ModelList(models=[model.name for model in services.registry.latest()])


@router.get("/models/{model_name:model_name}", response_model=V1ModelReady, responses=NOT_READY)
def model_ready(services: ServicesDep, model_name: str) -> V1ModelReady:
    """200 once the model is loaded and the server takes traffic; 503 while not."""
    name = model_name
    if services.registry.ready:
        name = services.registry.get(model_name).name  # 404 for an unknown model
    problem = services.readiness_problem()
    if problem:
        raise APIError(503, "not_ready", f"Model with name {name} is not ready. {problem}")
    return V1ModelReady(name=name, ready=True)


async def predict(request: Request, services: ServicesDep, model_name: str) -> Response:
    """Classify the instances (images or tensors), batched with other requests for the model."""
    model = serving_model(services, model_name)
    batcher = services.batchers.for_model(model)
    batcher.refuse_if_full()  # before reading a body the queue has no room for
    body = await request.body()
    with batcher.admission():  # after the upload: a slow client holds no queue place
        deadline = services.deadline()
        settings = services.settings
        most = settings.max_images_per_request
        k, inputs = await for_body(body, predict_instances, model, body, most)
        batch = (
            inputs
            if isinstance(inputs, np.ndarray)
            else await preprocessed_upload(
                model, inputs, services.image_limits, settings.inline_decode_pixels
            )
        )
        outputs = await batcher.logits(batch, deadline)
    return json_values({"predictions": codec.predictions(model, outputs, k)})


def predict_arguments(request: Request) -> dict[str, Any]:
    """`predict`'s arguments (its one parameter is the path's model name: no checks)."""
    services = services_of(request.app)
    return {
        "request": request,
        "services": services,
        "model_name": request.path_params["model_name"],
    }


predict_router.add_api_route(
    "/models/{model_name:model_name}:predict",
    predict,
    methods=["POST"],
    response_model=V1PredictResponse,
    openapi_extra=V1_BODY,
    route_class_override=quick_route(predict_arguments),
)


@explain_router.post(
    "/models/{model_name:model_name}:explain",
    response_model=V1ExplainResponse,
    response_model_exclude_none=True,
    openapi_extra=V1_BODY,
)
async def explain(request: Request, services: ServicesDep, model_name: str) -> V1ExplainResponse:
    """Explain each instance with the method of `parameters.method` (default: the server's)."""
    model = serving_model(services, model_name)
    settings = services.settings
    parsed = codec.parse_body(await request.body(), settings.max_images_per_request)
    query = request.query_params.multi_items()
    choice = codec.explain_choice(parsed.parameters, query, settings.default_explain_method)
    if choice.method.needs_gradients:
        model.engine.require()
    inputs = await run_in_threadpool(codec.decode_instances, parsed.instances, model.spec)
    uploads = explain_uploads(inputs, choice.baseline)
    # The request's forward-pass budget is shared evenly by its instances.
    limits = RequestLimits(settings.image_limits, settings.max_forward_passes // len(uploads))
    async with services.explain_gate.slot(services.deadline()):  # 503 when full
        explanations = await run_unless_disconnected(
            request, explain_each, model, choice, uploads, limits
        )
    return V1ExplainResponse(
        predictions=[codec.prediction(e.predictions) for e in explanations],
        explanations=explanations,
    )


def serving_model(services: ServicesDep, name: str) -> RunningModel:
    """The model a :predict or :explain names (its highest version), once the store is loaded."""
    if not services.registry.ready:
        raise APIError(503, "not_ready", f"Model with name {name} is not ready.")
    return services.registry.get(name)


def predict_instances(
    model: RunningModel, body: bytes, max_images: int
) -> tuple[int, list[bytes] | np.ndarray]:
    """`top_k` and the instances of a :predict body: encoded images, or the input batch
    (N, C, H, W) of tensors."""
    parsed = codec.parse_body(body, max_images)
    return codec.top_k(parsed.parameters), codec.decode_instances(parsed.instances, model.spec)


def explain_uploads(inputs: list[bytes] | np.ndarray, baseline: bytes | None) -> list[ImageUpload]:
    if isinstance(inputs, np.ndarray):
        return [ImageUpload(inputs[index : index + 1], baseline) for index in range(len(inputs))]
    return [ImageUpload(image, baseline) for image in inputs]


def explain_each(
    model: RunningModel,
    choice: codec.ExplainChoice,
    uploads: list[ImageUpload],
    limits: RequestLimits,
) -> list[ExplainResponse]:
    """The explanation of every instance, one after the other (in a worker thread)."""
    return [
        explain_image(model, choice.method, choice.params, choice.options, upload, limits)
        for upload in uploads
    ]
