"""What an evaluation is asked to do: the methods, the images, and the knobs of each metric,
as one pydantic model that is the job's JSON parameters (any replica runs it from them)."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.explain.faithfulness import Substrate

Target = Literal["predicted", "label"]
MetricGroup = Literal[
    "deletion_insertion", "faithfulness_correlation", "max_sensitivity", "randomisation", "road"
]
METRIC_GROUPS: tuple[MetricGroup, ...] = (
    "deletion_insertion",
    "faithfulness_correlation",
    "max_sensitivity",
    "randomisation",
    "road",
)


class EvaluationOptions(BaseModel):
    """The knobs (query parameters of POST /models/{name}/evaluate; defaults follow the
    papers where they fit a small image, see docs/evaluation.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    methods: list[str] = Field(
        [], alias="method", description="method keys; repeat (default: every method that works "
        "on the model)"
    )  # fmt: skip
    metrics: list[MetricGroup] = Field(
        [], alias="metric", description="metric groups; repeat (default: all)"
    )
    target: Target = Field(
        "predicted", description="the class each map explains: the model's top class, or the "
        "image's label (its folder's name)"
    )  # fmt: skip
    steps: int = Field(20, ge=2, le=100, description="deletion/insertion: points per curve - 1")
    substrate: Substrate = Field(
        "black", description="deletion/insertion and faithfulness correlation: what replaces "
        "removed pixels"
    )  # fmt: skip
    random_maps: int = Field(3, ge=1, le=16, description="random baseline maps per image")
    correlation_runs: int = Field(64, ge=8, le=1024, description="random subsets per image")
    correlation_fraction: float = Field(
        0.1, gt=0, le=0.5, description="pixels in each random subset, as a fraction"
    )
    sensitivity_samples: int = Field(5, ge=1, le=64, description="noisy copies per image")
    sensitivity_radius: float = Field(
        0.02, gt=0, le=0.5, description="uniform noise bound, as a fraction of the pixel range"
    )
    randomisation_steps: int = Field(
        3, ge=1, le=16, description="points of the cascade, from the top layer to all layers"
    )
    randomisation_images: int = Field(
        16, ge=1, le=64, description="images the randomisation test uses (the first ones)"
    )
    seed: int | None = Field(None, ge=0, lt=2**31, description="default: drawn, and reported")

    @property
    def groups(self) -> tuple[MetricGroup, ...]:
        """The metric groups to run, in their fixed order."""
        return tuple(g for g in METRIC_GROUPS if not self.metrics or g in self.metrics)


class EncodedImage(BaseModel):
    """One image as the job carries it: its name, its label (its folder's name, if any) and
    its encoded bytes in base64."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(max_length=512)
    label: str | None = Field(None, max_length=256)
    data: str = Field(description="base64 of the encoded image (PNG, JPEG, ...)")

    @classmethod
    def of(cls, name: str, label: str | None, data: bytes) -> EncodedImage:
        return cls(name=name, label=label, data=base64.b64encode(data).decode("ascii"))

    def decoded(self) -> bytes:
        return base64.b64decode(self.data)


class EvaluationParams(EvaluationOptions):
    """The job's parameters: the options, the images, and (once planned) the methods resolved
    and the seed drawn."""

    images: list[EncodedImage] = Field(min_length=1)
