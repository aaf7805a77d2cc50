"""Typed dependencies of the routes: the only module that reads `app.state`.

`create_app` puts one `Services` object in `app.state.services`; routes declare what they
need (`SettingsDep`, `RegistryDep`, `NamedModelDep`, ...) and FastAPI hands it to them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request

from app.api.metrics import Metrics
from app.config import Settings
from app.imaging.decode import ImageLimits
from app.imaging.decode_gate import DecodeGate
from app.runtime.batching import Batchers
from app.runtime.gate import ExplainGate
from app.runtime.jobs import JobRunner, JobStore
from app.runtime.model import RunningModel
from app.runtime.receiving import ReceivingBudget
from app.runtime.registry import ModelRegistry


@dataclass
class Services:
    """Everything the routes share, made once per app by `create_app`."""

    settings: Settings
    registry: ModelRegistry
    batchers: Batchers
    explain_gate: ExplainGate
    jobs: JobStore
    runner: JobRunner
    metrics: Metrics
    decode_gate: DecodeGate
    receiving: ReceivingBudget
    draining: bool = False

    @property
    def image_limits(self) -> ImageLimits:
        """The size limits of an upload, and the decode gate its decoding waits at."""
        limits = self.settings.image_limits
        return ImageLimits(
            limits.max_pixels, limits.max_side, limits.max_aspect_ratio, self.decode_gate
        )

    def readiness_problem(self) -> str | None:
        """Why the server should not get traffic now (loading, or draining after SIGTERM)."""
        if self.draining:
            return "The server is shutting down."
        if not self.registry.ready:
            return "Models are still loading."
        return None

    def deadline(self) -> float:
        """The monotonic time by which a request arriving now must have left the queue."""
        return time.monotonic() + self.settings.request_timeout_seconds


def services_of(app: FastAPI) -> Services:
    """The services of an app made by `create_app` (for the server process around it)."""
    return app.state.services


async def get_services(request: Request) -> Services:
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]

# The dependencies below read the request's services themselves rather than depend on
# `ServicesDep`: FastAPI solves each level of dependencies on every request, at a cost.


async def get_settings(request: Request) -> Settings:
    return services_of(request.app).settings


async def get_registry(request: Request) -> ModelRegistry:
    return services_of(request.app).registry


async def get_jobs(request: Request) -> JobStore:
    return services_of(request.app).jobs


async def get_metrics(request: Request) -> Metrics:
    return services_of(request.app).metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
JobsDep = Annotated[JobStore, Depends(get_jobs)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
VersionQuery = Annotated[
    int | None, Query(ge=1, description="model version (default: the highest)")
]


async def get_named_model(
    request: Request,
    name: Annotated[str, Path(description="model name")],
    version: VersionQuery = None,
) -> RunningModel:
    """The model named in the path, at `?version=` or its highest version. (Dependencies
    are `async`: FastAPI runs a plain `def` one in a worker thread, a hop per request.)"""
    return services_of(request.app).registry.get(name, version)


async def get_chosen_model(
    request: Request,
    model: Annotated[
        str | None, Query(description="model name (default: the server's default)")
    ] = None,
    version: VersionQuery = None,
) -> RunningModel:
    """The model of `?model=` (default: the server's) at `?version=` (default: the highest)."""
    return chosen_model(services_of(request.app), model, version)


def chosen_model(services: Services, model: str | None, version: int | None) -> RunningModel:
    """`get_chosen_model`'s answer, for a route that reads the query itself (app/api/quick.py)."""
    return services.registry.get(model or services.settings.default_model, version)


NamedModelDep = Annotated[RunningModel, Depends(get_named_model)]
ChosenModelDep = Annotated[RunningModel, Depends(get_chosen_model)]
