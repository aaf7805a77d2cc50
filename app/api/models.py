"""GET /models and /models/{name}: what is loaded, and where each model came from."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from app.api.schemas import GradientCheck, GradientSupport, ModelDetail, ModelList, ModelSummary
from app.store.loader import LoadedModel
from app.store.registry import ModelRegistry

router = APIRouter(tags=["models"])


@router.get("/models", response_model=ModelList)
def list_models(request: Request) -> ModelList:
    """List the loaded models (highest version of each) and the refused store entries."""
    registry = request.app.state.registry
    return ModelList(
        models=[_summary(model, registry) for model in registry.latest()],
        refused=registry.refused,
    )


@router.get("/models/{name}", response_model=ModelDetail)
def get_model(
    request: Request,
    name: str,
    version: int | None = Query(None, ge=1, description="default: the highest"),
) -> ModelDetail:
    """Describe one model: input spec, labels, parameter count and provenance."""
    registry = request.app.state.registry
    model = registry.get(name, version)
    manifest = model.manifest
    return ModelDetail(
        **_summary(model, registry).model_dump(),
        labels=list(manifest.labels),
        preprocess=manifest.preprocess.model_dump(),
        layers=manifest.layers.model_dump(),
        output=manifest.output,
        parameters=model.parameters,
        sha256=manifest.sha256,
        provenance=manifest.provenance.model_dump(),
        load_seconds=round(model.load_seconds, 4),
        gradients=GradientSupport(
            available=model.engine.available,
            code=None if model.engine.available else model.engine.error_code,
            error=model.engine.error,
            check=_check(model),
            build_seconds=round(model.engine.stats.build_seconds, 4),
            session_bytes=model.engine.stats.session_bytes,
            cam_layer=model.cam_layer,
            conv_layers=model.conv_layers,
        ),
    )


def _check(model: LoadedModel) -> GradientCheck | None:
    check = model.engine.check
    if check is None:
        return None
    return GradientCheck(
        passed=check.passed,
        error=check.error,
        tolerance=check.tolerance,
        resolution=check.resolution,
        worst=check.worst,
        seconds=round(check.seconds, 4),
    )


def _summary(model: LoadedModel, registry: ModelRegistry) -> ModelSummary:
    return ModelSummary(
        name=model.name,
        version=model.version,
        versions=sorted(registry.models[model.name]),
        description=model.manifest.description,
        classes=len(model.manifest.labels),
        input=model.manifest.input.model_dump(),
    )
