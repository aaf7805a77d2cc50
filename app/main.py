"""create_app(settings): the FastAPI application, its shared services, and the lifespan that
loads the store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from app.api.deps import Services
from app.api.errors import install_error_handlers
from app.api.metrics import Metrics
from app.api.middleware.auth import APIKeyMiddleware
from app.api.middleware.body_limit import BodyLimitMiddleware
from app.api.middleware.metrics import MetricsMiddleware
from app.api.middleware.request_log import RequestLogMiddleware
from app.api.middleware.server_error import ServerErrorMiddleware
from app.api.openapi import install_openapi
from app.api.routers import explain, health, introspect, jobs, metrics, models, predict, ui
from app.api.v2 import router as v2
from app.config import Settings
from app.imaging.decode_gate import DecodeGate
from app.runtime.batching import Batchers
from app.runtime.gate import ExplainGate
from app.runtime.jobs import JobRegistry
from app.runtime.loader import load_store
from app.runtime.receiving import ReceivingBudget
from app.runtime.registry import ModelRegistry

log = logging.getLogger("lantern")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = make_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = await run_in_threadpool(load_store, settings.model_store, settings.load_options)
        services.registry.adopt(loaded)
        log.info("ready: %d model(s), %d refused", len(loaded.models), len(loaded.refused))
        yield
        services.registry.ready = False
        await services.batchers.close()
        services.jobs.close()

    app = FastAPI(
        title="Lantern",
        summary="Serve a CNN image classifier and show why it decided.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    install_openapi(app, settings.max_images_per_request)
    for module in (predict, explain, models, introspect, jobs, health, ui, v2, metrics):
        app.include_router(module.router)
    app.mount("/static", ui.static_files(), name="static")
    install_middleware(app, settings, services.metrics, services.receiving)
    return app


def make_services(settings: Settings) -> Services:
    """Per-app registry, metrics, batchers, explain and decode gates, jobs (nothing global)."""
    metrics = Metrics()
    registry = ModelRegistry()
    batchers = Batchers(settings.batch_limits, metrics)
    jobs = JobRegistry(
        settings.max_running_jobs, settings.max_queued_jobs, settings.job_ttl_seconds
    )
    gate = ExplainGate(
        settings.explain_concurrency,
        settings.explain_queue_size,
        settings.retry_after_seconds,
        metrics,
    )
    decode_gate = DecodeGate(
        settings.max_decode_bytes,
        settings.decode_queue_size,
        settings.request_timeout_seconds,
        settings.retry_after_seconds,
        metrics.rejected,
    )
    metrics.watch(registry, jobs, batchers)
    receiving = ReceivingBudget(
        settings.max_receiving_bytes, settings.max_receiving_bytes // 8, metrics.rejected
    )
    metrics.decoding_bytes.set_function(decode_gate.in_use)
    metrics.receiving_bytes.set_function(receiving.in_use)
    return Services(settings, registry, batchers, gate, jobs, metrics, decode_gate, receiving)


def install_middleware(
    app: FastAPI, settings: Settings, metrics: Metrics, receiving: ReceivingBudget
) -> None:
    """Outermost first: request id + access log, metrics, CORS, API keys, body limit, 500s."""
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout=settings.upload_timeout_seconds,
        budget=receiving,
        retry_after=settings.retry_after_seconds,
    )
    app.add_middleware(APIKeyMiddleware, keys=settings.api_keys)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "Inference-Header-Content-Length",
            ],
            expose_headers=["X-Request-ID", "Retry-After", "Inference-Header-Content-Length"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestLogMiddleware)


def begin_drain(app: FastAPI) -> None:
    """SIGTERM: readiness turns false at once; in-flight requests still finish."""
    app.state.services.draining = True
    log.info("draining: readiness is now false")
