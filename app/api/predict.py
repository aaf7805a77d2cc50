"""POST /predict: classes and probabilities for one image or a batch."""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from app.api.backpressure import request_deadline
from app.api.intake import IMAGE_REQUEST_BODY, read_images
from app.api.schemas import PredictResponse
from app.inference import prepare_images, top_k
from app.store.loader import LoadedModel, softmax

router = APIRouter(tags=["predict"])


@router.post(
    "/predict", response_model=PredictResponse, openapi_extra={"requestBody": IMAGE_REQUEST_BODY}
)
async def predict(
    request: Request,
    model: str | None = Query(None, description="model name (default: the server's default)"),
    version: int | None = Query(None, ge=1, description="model version (default: the highest)"),
    k: int = Query(5, alias="top_k", ge=1, le=1000, description="classes to return per image"),
) -> PredictResponse:
    """Classify one image, or several sent as one batch."""
    state = request.app.state
    loaded = state.registry.get(model or state.settings.default_model, version)
    batcher = state.batchers.for_model(loaded)
    batcher.refuse_if_full()  # before reading a body the queue has no room for
    blobs = await read_images(request, state.settings.max_images_per_request)
    with batcher.admission():  # after the upload: a slow client holds no queue place
        deadline = request_deadline(state.settings)
        started = time.perf_counter()
        images = await run_in_threadpool(prepare_images, loaded, blobs, state.settings.image_limits)
        decoded = time.perf_counter()
        batch = np.stack([image.array for image in images])
        outputs = await batcher.logits(batch, deadline)  # with other requests' images
    hints = [[asdict(hint) for hint in image.hints] for image in images]
    return ranked_response(loaded, outputs, k, (started, decoded, time.perf_counter()), hints)


def ranked_response(
    loaded: LoadedModel,
    outputs: np.ndarray,
    k: int,
    times: tuple[float, float, float],
    hints: list[list[dict]] | None = None,
) -> PredictResponse:
    """The response for the model's raw outputs (N, K); `times`: start, decoded, finished;
    `hints`: each image's (none when not given)."""
    started, decoded, finished = times
    if loaded.manifest.output != "probabilities":
        outputs = softmax(outputs)
    ranked = top_k(outputs, loaded.manifest.labels, k)
    hints = hints or [[] for _ in ranked]
    return PredictResponse.model_validate(
        {
            "model": loaded.name,
            "version": loaded.version,
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
    )
