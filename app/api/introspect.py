"""What a model is made of and what it responds to: layers, summary, diagram, filters,
feature maps, and activation maximisation (as a job; see /jobs)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.api.backpressure import explain_slot
from app.api.disconnect import run_unless_disconnected
from app.api.intake import IMAGE_REQUEST_BODY, read_upload
from app.errors import APIError
from app.introspect import activation_maximisation as am
from app.introspect import service
from app.introspect.diagram import render_svg
from app.introspect.layers import graph_layers
from app.introspect.summary import summarise, summary_text
from app.store.loader import LoadedModel

router = APIRouter(tags=["introspection"])

VERSION = Query(None, ge=1, description="model version (default: the highest)")


def _model(request: Request, name: str, version: int | None) -> LoadedModel:
    return request.app.state.registry.get(name, version)


@router.get("/models/{name}/layers")
def list_layers(
    request: Request,
    name: str,
    version: int | None = VERSION,
    every: bool = Query(False, alias="all", description="every node, not only conv/pool/..."),
) -> dict[str, Any]:
    """List the conv, pool, activation and dense layers with their output shapes (batch 1)."""
    model = _model(request, name, version)
    return {"layers": [layer.as_dict() for layer in graph_layers(model.onnx_model, every)]}


@router.get("/models/{name}/summary")
def get_summary(request: Request, name: str, version: int | None = VERSION) -> dict[str, Any]:
    """Summarise the model Keras-style: layers, output shapes, parameters and MACs."""
    model = _model(request, name, version)
    return {"model": model.name, "version": model.version, **summarise(model.onnx_model)}


@router.get("/models/{name}/summary.txt", response_class=PlainTextResponse)
def get_summary_text(request: Request, name: str, version: int | None = VERSION) -> str:
    """Summarise the model as a Keras-like text table."""
    model = _model(request, name, version)
    return summary_text(model.name, summarise(model.onnx_model))


@router.get("/models/{name}/diagram.svg", response_class=Response)
def get_diagram(request: Request, name: str, version: int | None = VERSION) -> Response:
    """Draw the network as an SVG: one block per layer, edges for branches and residuals."""
    model = _model(request, name, version)
    svg = render_svg(model.onnx_model, f"{model.name} version {model.version}")
    return Response(svg, media_type="image/svg+xml")


@router.get("/models/{name}/filters")
def get_filters(
    request: Request,
    name: str,
    version: int | None = VERSION,
    layer: str | None = Query(None, description="conv output tensor or node (default: first)"),
    inputs: Literal["auto", "rgb", "each", "mean"] = Query(
        "auto", description="rgb tiles, a tile per (out, in) pair, or the mean over inputs"
    ),
) -> dict[str, Any]:
    """Show a convolution's weights as a grid of tiles, each filter normalised on its own."""
    return service.filters_body(_model(request, name, version), layer, inputs)


@router.post("/models/{name}/feature_maps", openapi_extra={"requestBody": IMAGE_REQUEST_BODY})
async def compute_feature_maps(
    request: Request,
    name: str,
    version: int | None = VERSION,
    layer: str | None = Query(None, description="tensor name (default: the manifest's)"),
    order: Literal["none", "mean"] = Query("none", description="mean: by mean, highest first"),
    raw: Literal["none", "npy", "json"] = Query("none", description="also the (C, H, W) data"),
    colormap: Literal["viridis", "inferno", "jet", "gray"] = Query("viridis"),
) -> dict[str, Any]:
    """Show one layer's activations for an image, a labelled tile per channel."""
    state = request.app.state
    model = _model(request, name, version)
    upload = await read_upload(request, 1)
    options = {"layer": layer, "order": order, "raw": raw, "colormap": colormap}
    async with explain_slot(request):  # builds a session per new layer: shares the explain gate
        return await run_unless_disconnected(
            request,
            service.feature_maps_body,
            model,
            upload.images[0],
            options,
            state.settings.image_limits,
        )


class ActivationMaximisationRequest(BaseModel):
    """A class objective (`class`) or a channel objective (`layer`, `channel`), and the knobs."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    target: int | str | None = Field(None, alias="class", description="class index or label")
    layer: str | None = Field(None, description="tensor (default: the manifest's feature layer)")
    channel: int | None = Field(None, ge=0)
    steps: int = Field(128, ge=1, description="at most LANTERN_MAX_ACTIVATION_STEPS")
    learning_rate: float = Field(0.1, gt=0, le=10)
    l2: float = Field(0.0, ge=0, le=10, description="L2 decay towards the data mean")
    tv: float = Field(0.0, ge=0, le=10, description="squared total variation weight")
    jitter: int = Field(0, ge=0, le=64, description="random roll per step, in pixels")
    blur_every: int = Field(0, ge=0, description="blur every n steps (0: never)")
    blur_sigma: float = Field(0.5, gt=0, le=10)
    seed: int | None = Field(None, ge=0, description="default: drawn, and reported")
    npy: bool = Field(False, description="also return the input tensor as .npy")

    @model_validator(mode="after")
    def _one_objective(self) -> ActivationMaximisationRequest:
        if (self.target is None) == (self.channel is None):
            raise ValueError('give either "class" or "channel" (with an optional "layer")')
        if self.target is not None and self.layer is not None:
            raise ValueError('"layer" goes with "channel", not with "class"')
        return self


@router.post("/models/{name}/activation_maximisation", status_code=202)
def start_activation_maximisation(
    request: Request, name: str, body: ActivationMaximisationRequest, version: int | None = VERSION
) -> JSONResponse:
    """Start a job that finds the input maximising a class logit or a channel's activation."""
    state = request.app.state
    if body.steps > state.settings.max_activation_steps:
        limit = state.settings.max_activation_steps
        raise APIError(422, "invalid_parameter", f"steps must be at most {limit}.")
    model = _model(request, name, version)
    objective, fn = service.resolve_objective(model, body.target, body.layer, body.channel)
    knobs = body.model_dump(exclude={"target", "layer", "channel", "npy"})
    params = service.with_seed(am.AscentParams(**knobs))
    objective |= {"model": model.name, "version": model.version, "parameters": knobs}
    objective["parameters"]["seed"] = params.seed
    work = service.activation_work(model, fn, params, body.npy)
    job = state.jobs.submit(work, "activation_maximisation", params.steps, objective)
    url = str(request.url_for("get_job", job_id=job.id).path)
    return JSONResponse(
        {"job_id": job.id, "status_url": url, "job": job.snapshot()},
        status_code=202,
        headers={"Location": url},
    )
