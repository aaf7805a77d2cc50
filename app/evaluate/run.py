"""One evaluation under way: its model, parameters, images, methods and the units their maps
are made of, and the tally its scores go into; what every phase of it shares."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from app.evaluate.cases import ImageCase, image_cases
from app.evaluate.maps import Grid, Units, method_units
from app.evaluate.params import EvaluationParams, MetricGroup
from app.evaluate.result import Skipped, Tally
from app.explain.base import ExplainInput, Method
from app.explain.registry import METHODS
from app.runtime.jobs import JobProgress
from app.runtime.model import RunningModel

ROAD_MAX_PIXELS = 64 * 64  # noisy linear imputation past this is too slow (docs/evaluation.md)


@dataclass
class Run:
    """An evaluation under way (see the module docstring); `kept` holds the trained model's
    maps of the images the randomisation test uses."""

    model: RunningModel
    params: EvaluationParams
    seed: int
    groups: tuple[MetricGroup, ...]
    cases: list[ImageCase]
    methods: dict[str, Method]
    units: dict[str, Units]  # on the first image (names and grids do not change)
    progress: JobProgress
    tally: Tally = field(default_factory=Tally)
    kept: dict[str, list[np.ndarray]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    step: int = 0

    def report(self, started: float) -> None:
        """One more step done; it took since `started` (raises once the job must stop)."""
        self.step += 1
        self.progress.report(self.step, time.perf_counter() - started)

    @property
    def size(self) -> Grid:
        return self.cases[0].size


def start_run(model: RunningModel, params: EvaluationParams, progress: JobProgress) -> Run:
    """The images decoded, the methods and their units, and the metric groups that fit."""
    if params.seed is None:
        raise ValueError("plan the parameters first: the seed is drawn then")
    cases = image_cases(model, params.images, params.target)
    methods = {key: METHODS[key] for key in params.methods}
    first = cases[0]
    units = {key: units_of(method, first) for key, method in methods.items()}
    groups, skipped = runnable_groups(params.groups, first.size)
    run = Run(model, params, params.seed, groups, cases, methods, units, progress)
    run.skipped = skipped
    return run


def runnable_groups(
    groups: tuple[MetricGroup, ...], size: Grid
) -> tuple[tuple[MetricGroup, ...], list[Skipped]]:
    """The metric groups asked for, less ROAD on inputs too large to impute in time."""
    height, width = size
    if "road" in groups and height * width > ROAD_MAX_PIXELS:
        reason = (
            f"noisy linear imputation of a {height}x{width} input takes about a second per "
            f"removal step here (18 per map); ROAD runs on inputs of at most {ROAD_MAX_PIXELS} "
            "pixels"
        )
        return tuple(g for g in groups if g != "road"), [Skipped(metric="road", reason=reason)]
    return groups, []


def units_of(method: Method, case: ImageCase) -> Units:
    """The units `method` makes its map of `case` of, with its default parameters."""
    return method_units(method, case.for_method(method))


def map_of(method: Method, given: ExplainInput) -> np.ndarray:
    """The method's map (H, W) of the input's one target, with its default parameters."""
    return np.asarray(method.explain(given, method.Params()).heatmaps[0], dtype=np.float64)
