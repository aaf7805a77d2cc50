"""The evaluation as a job kind: its parameters are the options of POST
/models/{name}/evaluate with the images in base64 (the job carries them, so any replica runs
it); planning checks the methods and images against the model, estimates the cost and draws
the seed; running is `run_evaluation`, whose result is the job's."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from app.errors import InvalidParameterError
from app.evaluate.cases import image_cases
from app.evaluate.cost import Estimate, estimate
from app.evaluate.evaluation import progress_steps, run_evaluation
from app.evaluate.params import EvaluationParams
from app.explain.registry import METHODS
from app.imaging.decode import ImageLimits
from app.runtime.jobs import JobProgress, JobSpec
from app.runtime.model import RunningModel

KEY = "evaluation"


@dataclass(frozen=True)
class Planned:
    """A planned evaluation: the job to submit and its estimated cost."""

    spec: JobSpec
    estimate: Estimate


def resolve_methods(model: RunningModel, requested: list[str]) -> list[str]:
    """The methods to evaluate: those asked for (each must exist and work on the model), or
    every method of the registry that works on it."""
    if not requested:
        return [key for key, method in METHODS.items() if method.supports(model)]
    unknown = [key for key in requested if key not in METHODS]
    if unknown:
        raise InvalidParameterError(f"No method {', '.join(unknown)}; GET /explain lists them.")
    unsupported = [key for key in requested if not METHODS[key].supports(model)]
    if unsupported:
        model.engine.require()  # gradients_unsupported, with the reason, when that is why
        raise InvalidParameterError(
            f"{', '.join(unsupported)} cannot explain {model.name}: it reads a conv layer "
            "the model does not have."
        )
    return list(dict.fromkeys(requested))


def plan(model: RunningModel, params: EvaluationParams, limits: ImageLimits) -> Planned:
    """Check the methods and images (decoded with `limits`), draw the seed, estimate."""
    methods = resolve_methods(model, params.methods)
    seed = params.seed if params.seed is not None else random.randrange(2**31)
    params = params.model_copy(update={"methods": methods, "seed": seed})
    cases = image_cases(model, params.images, params.target, limits)
    found = estimate(model, params, cases[0])
    objective = {
        "evaluate": methods,
        "model": model.name,
        "version": model.version,
        "images": len(params.images),
        "metrics": list(params.groups),
        "seed": seed,
        "estimate": found.model_dump(),
    }
    spec = JobSpec(
        kind=KEY,
        model=model.name,
        version=model.version,
        parameters=params.model_dump(mode="json", by_alias=False),
        steps=progress_steps(params, model),
        objective=objective,
    )
    return Planned(spec, found)


class EvaluationJob:
    """The `evaluation` job kind (see `app.runtime.jobs.JobKind`)."""

    Params: ClassVar[type[BaseModel]] = EvaluationParams

    def plan(self, model: RunningModel, params: EvaluationParams) -> JobSpec:
        return plan(model, params, ImageLimits()).spec

    def run(
        self, model: RunningModel, params: EvaluationParams, progress: JobProgress
    ) -> dict[str, Any]:
        result = run_evaluation(model, params, progress)
        return result.model_dump(mode="json")
