"""What a model is made of and what it responds to: layers, summary, diagram, filters,
feature maps, and activation maximisation (as a job; see /jobs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import NamedModelDep, Services, ServicesDep
from app.api.disconnect import run_unless_disconnected
from app.api.intake import json_request_body, read_json, read_upload
from app.api.openapi import image_request_body
from app.errors import InvalidParameterError
from app.introspect import service
from app.introspect.activation_job import KEY as ACTIVATION_MAXIMISATION
from app.introspect.activation_job import ActivationMaximisationParams
from app.introspect.diagram import render_svg
from app.introspect.response import FeatureMaps, FilterGrid, JobStarted, LayerList, Summary
from app.introspect.summary import summarise, summary_text
from app.job_kinds import JOB_KINDS
from app.runtime.model import RunningModel

router = APIRouter(tags=["introspection"])


def _no_null(schema: dict[str, Any]) -> None:
    """Drop `null` from a field's schema: it may be left out, never sent as null."""
    schema["anyOf"] = [part for part in schema.get("anyOf", []) if part.get("type") != "null"]
    schema.pop("default", None)


@router.get("/models/{name}/layers", response_model=LayerList)
def list_layers(
    model: NamedModelDep,
    every: Annotated[
        bool, Query(alias="all", description="every node, not only conv/pool/...")
    ] = False,
) -> LayerList:
    """List the conv, pool, activation and dense layers with their output shapes (batch 1)."""
    return service.layer_list(model, every)


@router.get("/models/{name}/summary", response_model=Summary)
def get_summary(model: NamedModelDep) -> Summary:
    """Summarise the model Keras-style: layers, output shapes, parameters and MACs."""
    return service.summary(model)


@router.get("/models/{name}/summary.txt", response_class=PlainTextResponse)
def get_summary_text(model: NamedModelDep) -> str:
    """Summarise the model as a Keras-like text table."""
    return summary_text(model.name, summarise(model.graph, model.layers.shapes))


@router.get("/models/{name}/diagram.svg", response_class=Response)
def get_diagram(model: NamedModelDep) -> Response:
    """Draw the network as an SVG: one block per layer, edges for branches and residuals."""
    title = f"{model.name} version {model.version}"
    svg = render_svg(model.graph, model.layers.shapes, title)
    return Response(svg, media_type="image/svg+xml")


@router.get("/models/{name}/filters", response_model=FilterGrid)
def get_filters(
    model: NamedModelDep,
    layer: Annotated[
        str | None, Query(description="conv output tensor or node (default: first)")
    ] = None,
    inputs: Annotated[
        Literal["auto", "rgb", "each", "mean"],
        Query(description="rgb tiles, a tile per (out, in) pair, or the mean over inputs"),
    ] = "auto",
) -> FilterGrid:
    """Show a convolution's weights as a grid of tiles, each filter normalised on its own."""
    return service.filter_grid(model, layer, inputs)


@router.post(
    "/models/{name}/feature_maps",
    response_model=FeatureMaps,
    response_model_exclude_none=True,
    openapi_extra={"requestBody": image_request_body(1)},
)
async def compute_feature_maps(
    request: Request,
    services: ServicesDep,
    model: NamedModelDep,
    layer: Annotated[str | None, Query(description="tensor name (default: the manifest's)")] = None,
    order: Annotated[
        Literal["none", "mean"], Query(description="mean: by mean, highest first")
    ] = "none",
    raw: Annotated[
        Literal["none", "npy", "json"], Query(description="also the (C, H, W) data")
    ] = "none",
    colormap: Literal["viridis", "inferno", "jet", "gray"] = "viridis",
) -> FeatureMaps:
    """Show one layer's activations for an image, a labelled tile per channel."""
    upload = await read_upload(request, 1)
    options = service.FeatureMapOptions(layer, order, raw, colormap)
    limits = services.image_limits
    # builds a session per new layer: shares the explain gate
    async with services.explain_gate.slot(services.deadline()):
        return await run_unless_disconnected(
            request, service.feature_maps, model, upload.images[0], options, limits
        )


@router.post(
    "/models/{name}/activation_maximisation",
    status_code=202,
    response_model=JobStarted,
    openapi_extra={"requestBody": json_request_body(ActivationMaximisationParams)},
)
async def start_activation_maximisation(
    request: Request, services: ServicesDep, model: NamedModelDep
) -> JSONResponse:
    """Start a job that finds the input maximising a class logit or a channel's activation."""
    body = await read_json(request, ActivationMaximisationParams)
    return await run_in_threadpool(start_job, request, services, model, body)


def start_job(
    request: Request, services: Services, model: RunningModel, body: ActivationMaximisationParams
) -> JSONResponse:
    """Plan the job (the objective is checked against the model) and queue it."""
    limit = services.settings.max_activation_steps
    if body.steps > limit:
        raise InvalidParameterError(f"steps must be at most {limit}.")
    job = services.jobs.submit(JOB_KINDS[ACTIVATION_MAXIMISATION].plan(model, body))
    url = str(request.url_for("get_job", job_id=job.id).path)
    started = JobStarted(job_id=job.id, status_url=url, job=job)
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})
