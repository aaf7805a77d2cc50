"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.schemas import Health
from app.errors import error_body

router = APIRouter(tags=["health"])


@router.get("/health/live", response_model=Health)
def check_liveness(request: Request) -> Health:
    """The process is up (it may still be loading models)."""
    return Health(status="live", models=_model_count(request))


@router.get("/health/ready", response_model=Health, responses={503: {"description": "not ready"}})
def check_readiness(request: Request) -> Health | JSONResponse:
    """Every loadable model is loaded and warm; traffic may come."""
    problem = readiness_problem(request.app.state)
    if problem:
        return JSONResponse(error_body("not_ready", problem), status_code=503)
    return Health(status="ready", models=_model_count(request))


def readiness_problem(state: Any) -> str | None:
    """Why the server should not get traffic now (loading, or draining after SIGTERM)."""
    if getattr(state, "draining", False):
        return "The server is shutting down."
    if not state.registry.ready:
        return "Models are still loading."
    return None


def _model_count(request: Request) -> int:
    return sum(len(versions) for versions in request.app.state.registry.models.values())
