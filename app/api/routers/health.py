"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import ServicesDep
from app.api.errors import error_body
from app.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health/live", response_model=Health)
def check_liveness(services: ServicesDep) -> Health:
    """The process is up (it may still be loading models)."""
    return Health(status="live", models=services.registry.count())


@router.get("/health/ready", response_model=Health, responses={503: {"description": "not ready"}})
def check_readiness(services: ServicesDep) -> Health | JSONResponse:
    """Every loadable model is loaded and warm; traffic may come."""
    problem = services.readiness_problem()
    if problem:
        return JSONResponse(error_body("not_ready", problem), status_code=503)
    return Health(status="ready", models=services.registry.count())
