"""An evaluation from its parameters: every method's map of every image scored on every
metric, beside random maps at each method's grid and a centred map, then the randomisation
cascade. The job (app/evaluate/job.py) and the command line (python -m app.evaluate) both
run this.

Progress is reported once per image for its baselines, once per (image, method), and once
per (cascade step, image); a cancelled job stops at the next report."""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from app.evaluate import seeds
from app.evaluate.assembly import assemble
from app.evaluate.cascade_phase import randomisation_phase
from app.evaluate.cases import ImageCase
from app.evaluate.maps import Units, centre_map
from app.evaluate.max_sensitivity import max_sensitivity
from app.evaluate.params import EvaluationParams
from app.evaluate.randomisation import cascade, learnt_layers
from app.evaluate.result import CENTRE, EvaluationResult, EvaluationTiming
from app.evaluate.run import Run, map_of, start_run, units_of
from app.evaluate.scoring import ImageWork, mean_score, prepare_image, score_map
from app.runtime.jobs import JobProgress
from app.runtime.model import RunningModel


def run_evaluation(
    model: RunningModel, params: EvaluationParams, progress: JobProgress
) -> EvaluationResult:
    """The evaluation the planned parameters describe (see the module docstring)."""
    clock = time.perf_counter()
    run = start_run(model, params, progress)
    for index, case in enumerate(run.cases):
        evaluate_image(run, index, case)
    images_done = time.perf_counter()
    layers: list[list[str]] = []
    if "randomisation" in run.groups:
        layers = randomisation_phase(run)
    finished = time.perf_counter()
    timing = EvaluationTiming(
        seconds=finished - clock,
        images_seconds=images_done - clock,
        randomisation_seconds=finished - images_done,
    )
    return assemble(run, layers, timing)


def evaluate_image(run: Run, index: int, case: ImageCase) -> None:
    """Image `index`: its baselines, then every method's map and metrics."""
    started = time.perf_counter()
    work = prepare_image(index, case, run.params, run.groups, run.seed)
    score_baselines(run, work)
    run.report(started)
    for key, method in run.methods.items():
        started = time.perf_counter()
        given = case.for_method(method)
        heatmap = map_of(method, given)
        run.tally.add(key, score_map(work, heatmap, key, run.params, run.seed))
        if work.noise is not None:
            value = max_sensitivity(partial(map_of, method), given, heatmap, work.noise)
            run.tally.add_value(key, "max_sensitivity", value)
        if "randomisation" in run.groups and index < run.params.randomisation_images:
            run.kept.setdefault(key, []).append(heatmap.astype(np.float32))
        run.tally.seconds[key] += time.perf_counter() - started
        run.report(started)


def score_baselines(run: Run, work: ImageWork) -> None:
    """The random maps on every kind of units the methods' maps are made of (the mean over
    the draws), and the centred map, on the curve metrics."""
    found = {units.name: units for units in image_units(run, work.case)}
    for name, units in sorted(found.items()):
        rng = seeds.generator(run.seed, seeds.RANDOM_MAPS, work.index, seeds.key_of(name))
        maps = units.draw(rng, run.params.random_maps)
        draws = [
            score_map(work, m, f"{name} {i}", run.params, run.seed) for i, m in enumerate(maps)
        ]
        run.tally.add(name, mean_score(draws))
    centre = centre_map(work.case.size)
    run.tally.add(CENTRE, score_map(work, centre, CENTRE, run.params, run.seed))


def image_units(run: Run, case: ImageCase) -> list[Units]:
    """Each method's units on this image (superpixels follow the image; grids do not)."""
    return [
        units if units.segments is None else units_of(run.methods[key], case)
        for key, units in run.units.items()
    ]


def progress_steps(params: EvaluationParams, model: RunningModel) -> int:
    """The steps an evaluation reports (see the module docstring)."""
    steps = len(params.images) * (1 + len(params.methods))
    if "randomisation" in params.groups:
        cascade_steps = len(cascade(learnt_layers(model.graph), params.randomisation_steps))
        steps += cascade_steps * min(len(params.images), params.randomisation_images)
    return steps
