"""What an evaluation will cost, worked out before it starts: forward passes (a row through
the network; a row of the explain graph counts as one, as the request budget counts them),
per method and in all, and a rough time from one timed forward run.

A method's passes for one map come from its first request for budget: it is run on the
first image with a budget that stops it there and records what it asked for; a method that
asks for none (a gradient method, a CAM) runs to the end, and the rows it sent through the
network are counted. Where a method states its cost itself (`Method.cost`), that is used
instead."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from functools import partial
from typing import Any, cast

import numpy as np
from pydantic import BaseModel, Field

from app.errors import OverBudgetError
from app.evaluate.cases import ImageCase
from app.evaluate.maps import grid_name
from app.evaluate.params import EvaluationParams
from app.evaluate.randomisation import cascade, learnt_layers
from app.evaluate.road import road_passes
from app.evaluate.run import method_grid, runnable_groups
from app.explain.base import Budget, ExplainInput, Method
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


class _AskedError(Exception):
    """Raised by the probe budget at a method's first request for passes."""

    def __init__(self, passes: int) -> None:
        self.passes = passes


class _ProbeBudget(Budget):
    """A budget that stops the method at its first request and records it."""

    def require(self, passes: int, *what: Any, **more: Any) -> None:
        raise _AskedError(passes)

    take = require


class _Counted:
    """A model's engine or taps that counts the rows of each run, and is the same otherwise."""

    def __init__(self, inner: Any, rows: list[int]) -> None:
        self._inner, self._rows = inner, rows

    def run(self, batch: np.ndarray, *more: Any, **named: Any) -> Any:
        self._rows.append(len(batch))
        return self._inner.run(batch, *more, **named)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def counting(model: RunningModel, rows: list[int]) -> RunningModel:
    """A shallow copy of `model` whose forward runs, explain-graph runs and taps add their
    batch sizes to `rows`."""
    counted = copy.copy(model)
    counted.engine = cast(Any, _Counted(model.engine, rows))
    counted.taps = cast(Any, _Counted(model.taps, rows))
    counted.logits = partial(_counted_logits, model, rows)  # type: ignore[method-assign]
    return counted


def _counted_logits(model: RunningModel, rows: list[int], batch: np.ndarray) -> np.ndarray:
    rows.append(len(batch))
    return model.logits(batch)


def map_passes(method: Method, given: ExplainInput) -> int:
    """The passes of one map of `method` on `given` (see the module docstring)."""
    params = method.Params()
    stated = getattr(method, "cost", None)
    workload = getattr(given, "workload", None)
    if callable(stated) and callable(workload):
        return max(1, int(stated(params, workload()).forward))
    rows: list[int] = []
    probe = dataclasses.replace(given, model=counting(given.model, rows), budget=_ProbeBudget(0))
    try:
        method.explain(probe, params)
    except _AskedError as asked:
        return max(1, asked.passes)
    return max(1, sum(rows))


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
    grids = {grid_name(method_grid(METHODS[key], first), first.size) for key in params.methods}
    shared = params.correlation_runs if "faithfulness_correlation" in groups else 0
    return 1 + shared + (len(grids) * params.random_maps + 1) * _curve_passes(params, groups)


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
