"""What an evaluation will cost, worked out before it starts: forward passes (a row through
the network, or from a layer on; a row of the explain graph counts one, as the request
budget counts them), per method and in all, and a rough time from one timed forward run.

A method's passes for one map are what its cost hook states (`Method.cost`, the rows the
contract test counts it running), for one target on the first image: Score-CAM's and
Ablation-CAM's are an upper bound (one run per channel of the layer, where channels that
never vary are skipped)."""

from __future__ import annotations

import math
import time

import numpy as np
from pydantic import BaseModel, Field

from app.errors import OverBudgetError
from app.evaluate.cases import ImageCase
from app.evaluate.params import EvaluationParams
from app.evaluate.randomisation import cascade, learnt_layers
from app.evaluate.road import road_passes
from app.evaluate.run import runnable_groups, units_of
from app.explain.base import ExplainInput, Method
from app.explain.faithfulness import faithfulness_passes
from app.explain.registry import METHODS
from app.runtime.model import RunningModel


class Estimate(BaseModel):
    """The passes an evaluation will run, and about how long that takes here."""

    passes: int = Field(description="forward passes in all (explain-graph rows count one)")
    per_method: dict[str, int] = Field(description="passes of each method's maps and metrics")
    baselines: int = Field(description="passes of the random and centred maps and shared work")
    randomised_models: int = Field(description="models the randomisation cascade loads")
    seconds: float = Field(description="rough: passes times one timed forward pass")


def map_passes(method: Method, given: ExplainInput) -> int:
    """The forward passes of one map of `method` on `given`, from its cost hook."""
    return max(1, method.cost(method.Params(), given.workload()).forward)


def estimate(model: RunningModel, params: EvaluationParams, first: ImageCase) -> Estimate:
    """The cost of evaluating `params.methods` on `params.images` (sized on the first)."""
    images = len(params.images)
    groups, _ = runnable_groups(params.groups, first.size)
    maps = {key: map_passes(METHODS[key], first.for_method(METHODS[key])) for key in params.methods}
    sensitivity = params.sensitivity_samples if "max_sensitivity" in groups else 0
    curve_passes = _curve_passes(params, groups)
    per_method = {
        key: images * (passes * (1 + sensitivity) + curve_passes) for key, passes in maps.items()
    }
    built = 0
    if "randomisation" in groups:
        built = len(cascade(learnt_layers(model.graph), params.randomisation_steps))
        for key, passes in maps.items():
            per_method[key] += built * min(images, params.randomisation_images) * passes
    baselines = images * _baseline_passes(params, groups, first)
    passes = sum(per_method.values()) + baselines
    seconds = passes * pass_seconds(model, first)
    return Estimate(
        passes=passes,
        per_method=per_method,
        baselines=baselines,
        randomised_models=built,
        seconds=seconds,
    )


def _baseline_passes(params: EvaluationParams, groups: tuple[str, ...], first: ImageCase) -> int:
    """Passes of one image's shared work: its prediction, the random subsets' drops, the
    random maps at each grid and the centred map."""
    names = {units_of(METHODS[key], first).name for key in params.methods}
    shared = params.correlation_runs if "faithfulness_correlation" in groups else 0
    return 1 + shared + (len(names) * params.random_maps + 1) * _curve_passes(params, groups)


def _curve_passes(params: EvaluationParams, groups: tuple[str, ...]) -> int:
    """Passes of the curve metrics of one map (deletion and insertion, ROAD)."""
    passes = faithfulness_passes(1, params.steps) if "deletion_insertion" in groups else 0
    return passes + (road_passes() if "road" in groups else 0)


def pass_seconds(model: RunningModel, case: ImageCase, batch: int = 8) -> float:
    """One forward pass's time here, from a timed run of a small batch."""
    inputs = np.repeat(case.given.image, batch, axis=0)
    started = time.perf_counter()
    model.logits(inputs)
    return (time.perf_counter() - started) / batch


def require_within(found: Estimate, limit: int) -> None:
    """Refuse (OverBudgetError, 422 over_budget) an evaluation over `limit` passes."""
    if found.passes <= limit:
        return
    costly = sorted(found.per_method.items(), key=lambda item: -item[1])[:3]
    named = ", ".join(f"{key} {passes:,}" for key, passes in costly)
    raise OverBudgetError(
        f"This evaluation needs about {found.passes:,} forward passes (about "
        f"{math.ceil(found.seconds)} s here; the costliest: {named}); the limit is {limit:,} "
        "(LANTERN_MAX_EVALUATION_PASSES). Choose fewer methods or images, or fewer "
        "sensitivity samples or cascade steps."
    )
