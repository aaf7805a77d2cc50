"""Scoring one map of one image on every curve metric (deletion and insertion, faithfulness
correlation, ROAD), against what all maps of that image share: the substrate, the random
subsets and their output drops, and the noisy copies for max-sensitivity."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.evaluate import seeds
from app.evaluate.cases import ImageCase
from app.evaluate.faithfulness_correlation import faithfulness_correlation as correlation
from app.evaluate.faithfulness_correlation import output_drops, random_subsets
from app.evaluate.max_sensitivity import input_noise
from app.evaluate.params import EvaluationOptions, MetricGroup
from app.evaluate.road import road_curves
from app.explain.faithfulness import curves, substrate_input


@dataclass
class ImageWork:
    """One image and what every map of it is scored against."""

    index: int
    case: ImageCase
    groups: tuple[MetricGroup, ...]
    base: np.ndarray  # (1, C, H, W): the substrate
    subsets: np.ndarray | None = None  # (R, H, W)
    drops: np.ndarray | None = None  # (R,)
    noise: np.ndarray | None = None  # (N, C, H, W)


@dataclass
class MapScore:
    """A map's value on each metric of one image, and its curves."""

    values: dict[str, float | None] = field(default_factory=dict)
    curves: dict[str, list[float]] = field(default_factory=dict)


def prepare_image(
    index: int,
    case: ImageCase,
    options: EvaluationOptions,
    groups: tuple[MetricGroup, ...],
    seed: int,
) -> ImageWork:
    """The substrate, subsets, drops and noise of image `index` (the ones its groups use)."""
    work = ImageWork(index, case, groups, substrate_input(case.given, options.substrate))
    if "faithfulness_correlation" in groups:
        rng = seeds.generator(seed, seeds.SUBSETS, index)
        work.subsets = random_subsets(
            rng, case.size, options.correlation_fraction, options.correlation_runs
        )
        work.drops = output_drops(case, work.base, work.subsets)
    if "max_sensitivity" in groups:
        rng = seeds.generator(seed, seeds.NOISE, index)
        radius = options.sensitivity_radius
        work.noise = input_noise(rng, case, options.sensitivity_samples, radius)
    return work


def score_map(
    work: ImageWork, heatmap: np.ndarray, name: str, options: EvaluationOptions, seed: int
) -> MapScore:
    """The curve metrics of one map (H, W) of the image; `name` seeds ROAD's noise."""
    score = MapScore()
    case = work.case
    if "deletion_insertion" in work.groups:
        found = curves(case.given, work.base, heatmap, case.target, options.steps)
        score.values |= {"deletion_auc": found.deletion.auc, "insertion_auc": found.insertion.auc}
        score.curves |= {"deletion": found.deletion.curve, "insertion": found.insertion.curve}
    if work.subsets is not None and work.drops is not None:
        score.values["faithfulness_correlation"] = correlation(heatmap, work.subsets, work.drops)
    if "road" in work.groups:
        rng = seeds.generator(seed, seeds.ROAD, work.index, seeds.key_of(name))
        morf, lerf = road_curves(case, heatmap, rng)
        score.values |= {"road_morf": float(np.mean(morf)), "road_lerf": float(np.mean(lerf))}
        score.curves |= {"road_morf": morf, "road_lerf": lerf}
    return score


def mean_score(scores: list[MapScore]) -> MapScore:
    """The mean of several maps' scores (the draws of a random baseline), value by value."""
    first = scores[0]
    values = {key: _mean_defined([s.values[key] for s in scores]) for key in first.values}
    curves_mean = {
        key: [float(v) for v in np.mean([s.curves[key] for s in scores], axis=0)]
        for key in first.curves
    }
    return MapScore(values, curves_mean)


def _mean_defined(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None
