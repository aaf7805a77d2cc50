"""POST /models/{name}/evaluate: a job that scores explanation methods on images with the
metrics of the evaluation literature (docs/evaluation.md); GET /jobs/{id} follows it.

(No `from __future__ import annotations` here: the query model must be an object to FastAPI.)"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.api.evaluation_intake import EVALUATION_REQUEST_BODY, Source, read_evaluation_images
from app.api.routers.ui import SAMPLES_DIR
from app.evaluate.cost import require_within
from app.evaluate.job import plan
from app.evaluate.params import EncodedImage, EvaluationOptions, EvaluationParams
from app.introspect.response import JobStarted

router = APIRouter(tags=["evaluate"])


class EvaluationQuery(EvaluationOptions):
    """The options, where the images come from, and the model's version."""

    source: Source = Field(
        "upload", description="upload: the body's images or archive; samples: the model's own"
    )
    version: int | None = Field(None, ge=1, description="model version (default: the highest)")


@router.post(
    "/models/{name}/evaluate",
    status_code=202,
    response_model=JobStarted,
    openapi_extra={"requestBody": EVALUATION_REQUEST_BODY},
)
async def start_evaluation(
    request: Request,
    services: ServicesDep,
    name: Annotated[str, Path(description="model name")],
    query: Annotated[EvaluationQuery, Query()],
) -> JSONResponse:
    """Start a job that scores every method (or those named) on the images: deletion and
    insertion AUC, faithfulness correlation, max-sensitivity, the randomisation test, ROAD,
    each beside random and centred baseline maps. Its cost is estimated first and refused
    (422 over_budget, with the estimate) past LANTERN_MAX_EVALUATION_PASSES."""
    settings = services.settings
    model = services.registry.get(name, query.version)
    limits = settings.archive_limits
    found = await read_evaluation_images(request, query.source, model.name, SAMPLES_DIR, limits)
    images = [EncodedImage.of(image.path, image.label, image.data) for image in found]
    options = query.model_dump(exclude={"source", "version"})
    params = EvaluationParams(**options, images=images)
    async with services.explain_gate.slot(services.deadline()):  # plan runs each method once
        planned = await run_in_threadpool(plan, model, params, services.image_limits)
    require_within(planned.estimate, settings.max_evaluation_passes)
    job = await run_in_threadpool(services.jobs.submit, planned.spec)
    url = str(request.url_for("get_job", job_id=job.id).path)
    started = JobStarted(job_id=job.id, status_url=url, job=job)
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})
