"""The result of an evaluation, as types (the job's JSON result, the CLI's report), and the
tally that collects every image's scores into it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from app.evaluate.metrics import BY_KEY, MetricInfo
from app.evaluate.scoring import MapScore
from app.evaluate.statistics import Interval, summarise

CENTRE = "centre"  # the centred Gaussian baseline's name
RANKING = (
    "insertion AUC minus deletion AUC, mean over the images, highest first (without the "
    "deletion/insertion curves: faithfulness correlation, then ROAD LeRF minus MoRF)"
)


class Baseline(BaseModel):
    """A map that knows nothing of the model: random noise at some grid, or the centre."""

    name: str = Field(
        description="random pixels, random hxw (upsampled), random superpixels, or centre"
    )
    grid: list[int] | None = Field(
        description="(h, w) the noise was drawn at (none: superpixels, the centre)"
    )
    metrics: dict[str, Interval]
    curves: dict[str, list[float]] = Field(description="mean over the images")


class MethodScores(BaseModel):
    """One method's row: every metric over the images, the same against its matched random
    map (paired differences: method - random), its mean curves, its randomisation cascade."""

    method: str
    family: str
    grid: list[int] | None = Field(
        description="(h, w) its map is made at, its random map's grid (none: superpixels)"
    )
    random: str = Field(description="the name of its resolution-matched random baseline")
    score: float | None = Field(description="the ranking's value (see `ranking`)")
    metrics: dict[str, Interval]
    versus_random: dict[str, Interval] = Field(description="method - matched random, paired")
    curves: dict[str, list[float]] = Field(description="mean over the images")
    randomisation: list[Interval] = Field(description="similarity at each cascade step")
    seconds: float = Field(description="time spent on this method's maps and metrics")


class ImageInfo(BaseModel):
    name: str
    label: str | None
    target: int = Field(description="the class its maps explain")
    target_label: str
    probability: float = Field(description="the target's probability on the image")


class RandomisationInfo(BaseModel):
    layers: list[list[str]] = Field(description="the layers re-drawn at each cascade step")
    images: int


class Skipped(BaseModel):
    metric: str
    reason: str


class EvaluationTiming(BaseModel):
    seconds: float = Field(description="the whole evaluation")
    images_seconds: float = Field(description="maps and metrics on the trained model")
    randomisation_seconds: float = Field(description="the randomised models and their maps")


class EvaluationResult(BaseModel):
    model: str
    version: int
    seed: int
    target: str
    images: list[ImageInfo]
    metrics: list[MetricInfo]
    methods: list[MethodScores] = Field(description="ranked, best first")
    baselines: list[Baseline]
    ranking: str
    randomisation: RandomisationInfo | None
    skipped: list[Skipped]
    timing: EvaluationTiming


@dataclass
class Tally:
    """Every map's per-image values and curves, by map name (a method key or a baseline's
    name), and each method's randomisation similarities (step -> per image) and time."""

    values: dict[str, dict[str, list[float | None]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    curves: dict[str, dict[str, list[list[float]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    similarity: dict[str, list[list[float | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, name: str, score: MapScore) -> None:
        for key, value in score.values.items():
            self.values[name][key].append(value)
        for key, curve in score.curves.items():
            self.curves[name][key].append(curve)

    def add_value(self, name: str, key: str, value: float | None) -> None:
        self.values[name][key].append(value)

    def summaries(self, name: str) -> dict[str, Interval]:
        return {key: summarise(values) for key, values in self.values[name].items()}

    def mean_curves(self, name: str) -> dict[str, list[float]]:
        return {
            key: [float(v) for v in np.mean(curves, axis=0)]
            for key, curves in self.curves[name].items()
        }

    def versus(self, name: str, other: str) -> dict[str, Interval]:
        """Paired differences name - other on every metric both have."""
        found = {}
        for key, values in self.values[name].items():
            theirs = self.values[other].get(key) if other in self.values else None
            if theirs is None or not BY_KEY[key].baseline:
                continue
            found[key] = summarise([_difference(a, b) for a, b in zip(values, theirs, strict=True)])
        return found


def ranking_score(metrics: dict[str, Interval]) -> float | None:
    """The value methods are ranked by (see RANKING)."""
    pairs = (
        ("insertion_auc", "deletion_auc"),
        ("faithfulness_correlation", None),
        ("road_lerf", "road_morf"),
    )
    for high, low in pairs:
        above = metrics[high].mean if high in metrics else None
        if above is not None:
            below = metrics[low].mean if low else 0.0
            return None if below is None else above - below
    return None


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b
