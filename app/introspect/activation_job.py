"""Activation maximisation as a job kind: its parameters are the body of
POST /models/{name}/activation_maximisation, the seed is drawn when the job is planned, and any
replica runs the same ascent from the same data (`app.introspect.activation_maximisation`)."""

from __future__ import annotations

import random
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.introspect import activation_maximisation as am
from app.introspect import service
from app.runtime.jobs import JobProgress, JobSpec
from app.runtime.model import RunningModel

KEY = "activation_maximisation"
# The JSON schema of an objective: a class, or a channel (and a layer), never both.
ONE_OBJECTIVE: Any = [
    {"required": ["class"], "not": {"anyOf": [{"required": ["channel"]}, {"required": ["layer"]}]}},
    {"required": ["channel"], "not": {"required": ["class"]}},
]


def _no_null(schema: dict[str, Any]) -> None:
    """Drop `null` from a field's schema: it may be left out, never sent as null."""
    schema["anyOf"] = [part for part in schema.get("anyOf", []) if part.get("type") != "null"]
    schema.pop("default", None)


class ActivationMaximisationParams(BaseModel):
    """A class objective (`class`) or a channel objective (`layer`, `channel`), and the knobs.
    Strict: JSON types as the schema says (no 0 for false), and no nulls."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        strict=True,
        json_schema_extra={"oneOf": ONE_OBJECTIVE},
    )

    target: int | str | None = Field(
        None, alias="class", description="class index or label", json_schema_extra=_no_null
    )
    layer: str | None = Field(
        None,
        description="tensor (default: the manifest's feature layer)",
        json_schema_extra=_no_null,
    )
    channel: int | None = Field(None, ge=0, json_schema_extra=_no_null)
    steps: int = Field(256, ge=1, description="at most LANTERN_MAX_ACTIVATION_STEPS")
    learning_rate: float = Field(0.05, gt=0, le=10, description="Adam's step")
    parameterisation: Literal["fourier", "pixel"] = Field(
        "fourier", description="fourier: the image's spectrum, scaled by 1/frequency "
        "(Olah et al. 2017); pixel: the pixels themselves"
    )  # fmt: skip
    decorrelate: bool = Field(True, description="decorrelate the colours (RGB models)")
    jitter: int | None = Field(
        None, ge=0, le=64, description="random shift per step, in pixels (default: the "
        "longer side / 16)", json_schema_extra=_no_null
    )  # fmt: skip
    scale: float = Field(0.1, ge=0, le=0.5, description="random scale per step: 1 +- this")
    rotation: float = Field(10.0, ge=0, le=180, description="random rotation per step, degrees")
    l2: float = Field(0.5, ge=0, le=10, description="L2 pull of the pixels to the data mean")
    tv: float = Field(0.0, ge=0, le=10, description="squared total variation weight")
    blur_every: int = Field(4, ge=0, description="blur every n steps (0: never)")
    blur_sigma: float = Field(0.5, gt=0, le=10, description="that blur's sigma, in pixels")
    seed: int | None = Field(
        None, ge=0, description="default: drawn, and reported", json_schema_extra=_no_null
    )
    npy: bool = Field(False, description="also return the input tensor as .npy")

    @field_validator("target", "layer", "channel", "jitter", "seed", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value

    @model_validator(mode="after")
    def _one_objective(self) -> ActivationMaximisationParams:
        if (self.target is None) == (self.channel is None):
            raise ValueError('give either "class" or "channel" (with an optional "layer")')
        if self.target is not None and self.layer is not None:
            raise ValueError('"layer" goes with "channel", not with "class"')
        return self

    def knobs(self) -> dict[str, Any]:
        """The ascent's knobs (every field but the objective and the output options)."""
        return self.model_dump(exclude={"target", "layer", "channel", "npy"})


class ActivationMaximisationJob:
    """The `activation_maximisation` job kind (see `app.runtime.jobs.JobKind`)."""

    Params: ClassVar[type[BaseModel]] = ActivationMaximisationParams

    def plan(self, model: RunningModel, params: ActivationMaximisationParams) -> JobSpec:
        """Check the objective against the model and draw the seed if none was given."""
        if params.seed is None:
            params = params.model_copy(update={"seed": random.randrange(2**31)})
        objective, _ = service.resolve_objective(model, params.target, params.layer, params.channel)
        objective |= {"model": model.name, "version": model.version, "parameters": params.knobs()}
        return JobSpec(
            kind=KEY,
            model=model.name,
            version=model.version,
            parameters=params.model_dump(mode="json", by_alias=True, exclude_none=True),
            steps=params.steps,
            objective=objective,
        )

    def run(
        self, model: RunningModel, params: ActivationMaximisationParams, progress: JobProgress
    ) -> dict[str, Any]:
        """The ascent from the planned data: the same result on any replica."""
        _, fn = service.resolve_objective(model, params.target, params.layer, params.channel)
        ascent = am.AscentParams(**params.knobs())
        return service.ascent_result(model, fn, ascent, params.npy, progress)
