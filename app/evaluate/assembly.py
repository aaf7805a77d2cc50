"""The result of a finished run: methods ranked, their scores against their matched random
maps, the baselines, the images and the settings of every metric."""

from __future__ import annotations

import numpy as np

from app.evaluate.metrics import metric_infos
from app.evaluate.result import (
    CENTRE,
    RANKING,
    Baseline,
    EvaluationResult,
    EvaluationTiming,
    ImageInfo,
    MethodScores,
    RandomisationInfo,
    ranking_score,
)
from app.evaluate.run import Run
from app.evaluate.statistics import summarise


def assemble(run: Run, layers: list[list[str]], timing: EvaluationTiming) -> EvaluationResult:
    methods = sorted((method_scores(run, key) for key in run.methods), key=_rank)
    randomised = min((len(maps) for maps in run.kept.values()), default=0)
    return EvaluationResult(
        model=run.model.name,
        version=run.model.version,
        seed=run.seed,
        target=run.params.target,
        images=[image_info(run, index) for index in range(len(run.cases))],
        metrics=metric_infos(run.params, run.groups, run.seed),
        methods=methods,
        baselines=baselines(run),
        ranking=RANKING,
        randomisation=RandomisationInfo(layers=layers, images=randomised) if layers else None,
        skipped=run.skipped,
        timing=timing,
    )


def method_scores(run: Run, key: str) -> MethodScores:
    metrics = run.tally.summaries(key)
    units = run.units[key]
    random = units.name
    return MethodScores(
        method=key,
        family=run.methods[key].family,
        grid=list(units.grid) if units.grid is not None else None,
        random=random,
        score=ranking_score(metrics),
        metrics=metrics,
        versus_random=run.tally.versus(key, random),
        curves=run.tally.mean_curves(key),
        randomisation=[summarise(step) for step in run.tally.similarity.get(key, [])],
        seconds=run.tally.seconds[key],
    )


def baselines(run: Run) -> list[Baseline]:
    """The random maps at each grid (pixels first, then coarser), on superpixels, then the
    centre."""
    found = {units.name: units for units in run.units.values()}
    ordered = sorted(found.values(), key=lambda u: -u.grid[0] * u.grid[1] if u.grid else 0)
    named = [(u.name, list(u.grid) if u.grid else None) for u in ordered] + [(CENTRE, None)]
    return [
        Baseline(
            name=name,
            grid=grid,
            metrics=run.tally.summaries(name),
            curves=run.tally.mean_curves(name),
        )
        for name, grid in named
    ]


def image_info(run: Run, index: int) -> ImageInfo:
    case = run.cases[index]
    return ImageInfo(
        name=case.name,
        label=case.label,
        target=case.target,
        target_label=run.model.manifest.label(case.target),
        probability=case.probability,
    )


def _rank(row: MethodScores) -> float:
    return np.inf if row.score is None else -row.score
