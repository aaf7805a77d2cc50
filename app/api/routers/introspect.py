"""What a model is made of and what it responds to: layers, summary, diagram, filters,
feature maps, and activation maximisation (as a job; see /jobs)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.api.deps import NamedModelDep, ServicesDep
from app.api.disconnect import run_unless_disconnected
from app.api.intake import IMAGE_REQUEST_BODY, read_upload
from app.errors import InvalidParameterError
from app.introspect import activation_maximisation as am
from app.introspect import service
from app.introspect.diagram import render_svg
from app.introspect.response import FeatureMaps, FilterGrid, JobStarted, LayerList, Summary
from app.introspect.summary import summarise, summary_text

router = APIRouter(tags=["introspection"])


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
    openapi_extra={"requestBody": IMAGE_REQUEST_BODY},
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
    limits = services.settings.image_limits
    # builds a session per new layer: shares the explain gate
    async with services.explain_gate.slot(services.deadline()):
        return await run_unless_disconnected(
            request, service.feature_maps, model, upload.images[0], options, limits
        )


class ActivationMaximisationRequest(BaseModel):
    """A class objective (`class`) or a channel objective (`layer`, `channel`), and the knobs."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    target: int | str | None = Field(None, alias="class", description="class index or label")
    layer: str | None = Field(None, description="tensor (default: the manifest's feature layer)")
    channel: int | None = Field(None, ge=0)
    steps: int = Field(256, ge=1, description="at most LANTERN_MAX_ACTIVATION_STEPS")
    learning_rate: float = Field(0.05, gt=0, le=10, description="Adam's step")
    parameterisation: Literal["fourier", "pixel"] = Field(
        "fourier", description="fourier: the image's spectrum, scaled by 1/frequency "
        "(Olah et al. 2017); pixel: the pixels themselves"
    )  # fmt: skip
    decorrelate: bool = Field(True, description="decorrelate the colours (RGB models)")
    jitter: int | None = Field(
        None, ge=0, le=64, description="random shift per step, in pixels (default: the "
        "longer side / 16)"
    )  # fmt: skip
    scale: float = Field(0.1, ge=0, le=0.5, description="random scale per step: 1 +- this")
    rotation: float = Field(10.0, ge=0, le=180, description="random rotation per step, degrees")
    l2: float = Field(0.5, ge=0, le=10, description="L2 pull of the pixels to the data mean")
    tv: float = Field(0.0, ge=0, le=10, description="squared total variation weight")
    blur_every: int = Field(4, ge=0, description="blur every n steps (0: never)")
    blur_sigma: float = Field(0.5, gt=0, le=10, description="that blur's sigma, in pixels")
    seed: int | None = Field(None, ge=0, description="default: drawn, and reported")
    npy: bool = Field(False, description="also return the input tensor as .npy")

    @model_validator(mode="after")
    def _one_objective(self) -> ActivationMaximisationRequest:
        if (self.target is None) == (self.channel is None):
            raise ValueError('give either "class" or "channel" (with an optional "layer")')
        if self.target is not None and self.layer is not None:
            raise ValueError('"layer" goes with "channel", not with "class"')
        return self

    def ascent(self) -> am.AscentParams:
        """The ascent's knobs, with a drawn seed when none was given."""
        knobs = self.model_dump(exclude={"target", "layer", "channel", "npy"})
        return service.with_seed(am.AscentParams(**knobs))


@router.post("/models/{name}/activation_maximisation", status_code=202, response_model=JobStarted)
def start_activation_maximisation(
    request: Request,
    services: ServicesDep,
    model: NamedModelDep,
    body: ActivationMaximisationRequest,
) -> JSONResponse:
    """Start a job that finds the input maximising a class logit or a channel's activation."""
    limit = services.settings.max_activation_steps
    if body.steps > limit:
        raise InvalidParameterError(f"steps must be at most {limit}.")
    objective, fn = service.resolve_objective(model, body.target, body.layer, body.channel)
    params = body.ascent()
    parameters = body.model_dump(exclude={"target", "layer", "channel", "npy"})
    objective |= {"model": model.name, "version": model.version, "parameters": parameters}
    objective["parameters"]["seed"] = params.seed
    work = service.activation_work(model, fn, params, body.npy)
    job = services.jobs.submit(work, "activation_maximisation", params.steps, objective)
    url = str(request.url_for("get_job", job_id=job.id).path)
    started = JobStarted(job_id=job.id, status_url=url, job=job.snapshot())
    return JSONResponse(started.model_dump(), status_code=202, headers={"Location": url})
