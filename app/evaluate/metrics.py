"""The metrics an evaluation reports, by the key its results carry: what each measures,
which way is better, and the substrate, steps and seed it ran with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from app.evaluate.imputation import NOISE
from app.evaluate.params import EvaluationOptions, MetricGroup
from app.evaluate.road import FRACTIONS

Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    group: MetricGroup
    better: Better
    baseline: bool  # whether the random and centre maps are scored on it too
    reference: str


METRICS: tuple[Metric, ...] = (
    Metric("deletion_auc", "Deletion AUC", "deletion_insertion", "lower", True,
           "Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421"),
    Metric("insertion_auc", "Insertion AUC", "deletion_insertion", "higher", True,
           "Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421"),
    Metric("faithfulness_correlation", "Faithfulness correlation", "faithfulness_correlation",
           "higher", True, "Bhatt et al. 2020, https://arxiv.org/abs/2005.00631"),
    Metric("max_sensitivity", "Max-sensitivity", "max_sensitivity", "lower", False,
           "Yeh et al. 2019, https://arxiv.org/abs/1901.09392"),
    Metric("randomisation", "Randomisation similarity", "randomisation", "lower", False,
           "Adebayo et al. 2018, https://arxiv.org/abs/1810.03292"),
    Metric("road_morf", "ROAD MoRF", "road", "lower", True,
           "Rong et al. 2022, https://arxiv.org/abs/2202.00449"),
    Metric("road_lerf", "ROAD LeRF", "road", "higher", True,
           "Rong et al. 2022, https://arxiv.org/abs/2202.00449"),
)  # fmt: skip
BY_KEY = {metric.key: metric for metric in METRICS}


class MetricInfo(BaseModel):
    """One column of the results: what it is and how it was run."""

    key: str
    title: str
    better: Better = Field(description="which way is more faithful (or more trustworthy)")
    substrate: str = Field(description="what removed pixels became, or what was perturbed")
    steps: int | None = Field(description="points, subsets, samples or cascade steps")
    seed: int = Field(description="the evaluation's seed (streams per purpose and image)")
    details: str
    reference: str


def metric_infos(
    options: EvaluationOptions, groups: tuple[MetricGroup, ...], seed: int
) -> list[MetricInfo]:
    """The metrics of `groups`, with the settings they ran with."""
    return [
        MetricInfo(
            key=m.key,
            title=m.title,
            better=m.better,
            substrate=_substrate(m.group, options),
            steps=_steps(m.group, options),
            seed=seed,
            details=_details(m.group, options),
            reference=m.reference,
        )
        for m in METRICS
        if m.group in groups
    ]


def _substrate(group: MetricGroup, options: EvaluationOptions) -> str:
    return {
        "deletion_insertion": options.substrate,
        "faithfulness_correlation": options.substrate,
        "max_sensitivity": f"uniform noise of +-{options.sensitivity_radius:g} of the pixel range",
        "randomisation": "weights re-drawn uniform in +-1/sqrt(fan_in) (torch's default)",
        "road": f"noisy linear imputation (noise sigma {NOISE:g} in input units)",
    }[group]


def _steps(group: MetricGroup, options: EvaluationOptions) -> int:
    return {
        "deletion_insertion": options.steps,
        "faithfulness_correlation": options.correlation_runs,
        "max_sensitivity": options.sensitivity_samples,
        "randomisation": options.randomisation_steps,
        "road": len(FRACTIONS),
    }[group]


def _details(group: MetricGroup, options: EvaluationOptions) -> str:
    return {
        "deletion_insertion": f"{options.steps + 1} points; the target's probability; "
        "trapezoid AUC over [0, 1]",
        "faithfulness_correlation": f"{options.correlation_runs} random subsets of "
        f"{options.correlation_fraction:.0%} of the pixels; Pearson's r of the map's sum over "
        "each with the drop of the target's probability",
        "max_sensitivity": f"max over {options.sensitivity_samples} noisy copies of "
        "||map(x + d) - map(x)|| / ||map(x)||",
        "randomisation": f"Spearman's rank correlation of |map| with the trained model's, mean "
        f"over {options.randomisation_steps} cascade steps from the top layer to all layers, "
        f"on the first {options.randomisation_images} images",
        "road": f"{len(FRACTIONS)} fractions removed (10% to 90%); mean of the target's "
        "probability",
    }[group]
