"""GET /models and /models/{name}: what is loaded, and where each model came from."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import NamedModelDep, RegistryDep
from app.api.schemas import GradientCheck, GradientSupport, ModelDetail, ModelList, ModelSummary
from app.gradients.self_check import SelfCheck
from app.runtime.model import RunningModel
from app.runtime.registry import ModelRegistry

router = APIRouter(tags=["models"])


@router.get("/models", response_model=ModelList)
def list_models(registry: RegistryDep) -> ModelList:
    """List the loaded models (highest version of each) and the refused store entries."""
    return ModelList(
        models=[_summary(model, registry) for model in registry.latest()],
        refused=registry.refused,
    )


@router.get("/models/{name}", response_model=ModelDetail)
def get_model(model: NamedModelDep, registry: RegistryDep) -> ModelDetail:
    """Describe one model: input spec, labels, parameter count and provenance."""
    manifest, engine = model.manifest, model.engine
    return ModelDetail(
        **_summary(model, registry).model_dump(),
        labels=list(manifest.labels),
        preprocess=manifest.preprocess.model_dump(),
        layers=manifest.layers.model_dump(),
        output=manifest.output,
        parameters=model.facts.parameters,
        sha256=manifest.sha256,
        trained_on=manifest.provenance.trained_on or manifest.provenance.data,
        provenance=manifest.provenance.model_dump(),
        load_seconds=round(model.facts.seconds, 4),
        gradients=GradientSupport(
            available=engine.available,
            status=engine.status,
            code=engine.code,
            error=engine.error,
            check=_check(engine.check),
            build_seconds=round(engine.stats.build_seconds, 4),
            session_bytes=engine.stats.session_bytes,
            cam_layer=model.layers.cam_layer,
            conv_layers=list(model.layers.conv_layers),
        ),
    )


def _check(check: SelfCheck | None) -> GradientCheck | None:
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


def _summary(model: RunningModel, registry: ModelRegistry) -> ModelSummary:
    return ModelSummary(
        name=model.name,
        version=model.version,
        versions=registry.versions(model.name),
        description=model.manifest.description,
        classes=model.manifest.classes,
        input=model.spec.model_dump(),
    )
