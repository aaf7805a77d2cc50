"""POST /predict: classes and probabilities for one image or a batch."""

from __future__ import annotations

import time
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api.deps import ChosenModelDep, ServicesDep, chosen_model, services_of
from app.api.encoding import json_values
from app.api.intake import read_upload
from app.api.offload import prepared_upload
from app.api.openapi import image_request_body
from app.api.quick import plain_int, quick_route
from app.api.schemas import PredictResponse
from app.imaging.hints import Hint
from app.runtime.model import RunningModel

router = APIRouter(tags=["predict"])
MOST_TOP_K = 1000
DEFAULT_TOP_K = 5


async def predict(
    request: Request,
    services: ServicesDep,
    model: ChosenModelDep,
    k: Annotated[
        int, Query(alias="top_k", ge=1, le=MOST_TOP_K, description="classes to return per image")
    ] = DEFAULT_TOP_K,
) -> Response:
    """Classify one image, or several sent as one batch."""
    settings = services.settings
    batcher = services.batchers.for_model(model)
    batcher.refuse_if_full()  # before reading a body the queue has no room for
    upload = await read_upload(request, settings.max_images_per_request)
    with batcher.admission():  # after the upload: a slow client holds no queue place
        deadline = services.deadline()
        started = time.perf_counter()
        limits, inline = services.image_limits, settings.inline_decode_pixels
        images = await prepared_upload(model, upload.images, limits, inline)
        decoded = time.perf_counter()
        batch = np.stack([image.array for image in images])
        outputs = await batcher.logits(batch, deadline)  # with other requests' images
    hints = [image.hints for image in images]
    times = (started, decoded, time.perf_counter())
    return json_values(ranked_values(model, outputs, k, times, hints))


def predict_arguments(request: Request) -> dict[str, Any] | None:
    """`predict`'s arguments for a query of plain values (else None: FastAPI solves it)."""
    query = request.query_params
    k = plain_int(query.get("top_k", str(DEFAULT_TOP_K)), MOST_TOP_K)
    version_text = query.get("version")
    version = plain_int(version_text)
    if k is None or (version_text is not None and version is None):
        return None
    services = services_of(request.app)
    model = chosen_model(services, query.get("model"), version)
    return {"request": request, "services": services, "model": model, "k": k}


router.add_api_route(
    "/predict",
    predict,
    methods=["POST"],
    response_model=PredictResponse,
    openapi_extra={"requestBody": image_request_body(64)},  # the limit's set when served
    route_class_override=quick_route(predict_arguments),
)


def ranked_values(
    model: RunningModel,
    outputs: np.ndarray,
    k: int,
    times: tuple[float, float, float],
    hints: list[list[Hint]] | None = None,
) -> dict[str, Any]:
    """The `PredictResponse` for the model's raw outputs (N, K), as JSON values; `times`:
    start, decoded, finished; `hints`: each image's (none when not given)."""
    started, decoded, finished = times
    manifest = model.manifest
    ranked = [
        [{"index": c.index, "label": c.label, "probability": c.probability} for c in row]
        for row in manifest.top_classes(manifest.probabilities(outputs), k)
    ]
    hints = hints or [[] for _ in ranked]
    return {
        "model": model.name,
        "version": model.version,
        "predictions": ranked[0],
        "results": [
            {"predictions": predictions, "hints": image_hints}
            for predictions, image_hints in zip(ranked, hints, strict=True)
        ],
        "hints": hints[0],
        "timing": {
            "decode_ms": (decoded - started) * 1000,
            "inference_ms": (finished - decoded) * 1000,
            "total_ms": (finished - started) * 1000,
        },
    }
