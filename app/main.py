"""create_app(settings): the FastAPI application, and the lifespan that loads the store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from app.api import docs, explain, health, introspect, jobs, metrics, models, predict, ui, v2
from app.api.auth import APIKeyMiddleware
from app.api.backpressure import ExplainGate, batch_limits
from app.api.body_limit import BodyLimitMiddleware
from app.api.metrics import Metrics, MetricsMiddleware
from app.api.request_log import RequestLogMiddleware
from app.api.server_error import ServerErrorMiddleware
from app.config import Settings
from app.errors import install_error_handlers
from app.jobs import JobRegistry
from app.store.batching import Batchers
from app.store.registry import ModelRegistry, load_registry

log = logging.getLogger("lantern")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = await run_in_threadpool(
            load_registry, settings.model_store, settings.ort_intra_op_threads, settings.warmup_runs
        )
        app.state.registry = registry
        registry.ready = True
        log.info("ready: %d model(s), %d refused", len(registry.models), len(registry.refused))
        yield
        registry.ready = False
        await app.state.batchers.close()
        app.state.jobs.close()

    app = FastAPI(
        title="Lantern",
        summary="Serve a CNN image classifier and show why it decided.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # app/api/docs.py serves /docs from local files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.registry = ModelRegistry()
    install_serving_state(app, settings)
    app.state.jobs = JobRegistry(
        settings.max_running_jobs, settings.max_queued_jobs, settings.job_ttl_seconds
    )
    install_error_handlers(app)
    for module in (predict, explain, models, introspect, jobs, health, ui, docs, v2, metrics):
        app.include_router(module.router)
    app.mount("/static", ui.static_files(), name="static")
    install_middleware(app, settings)
    return app


def install_serving_state(app: FastAPI, settings: Settings) -> None:
    """Per-app metrics, model batchers and the explain gate (nothing global)."""
    app.state.draining = False
    app.state.metrics = Metrics()
    app.state.metrics.watch_app(app.state)
    app.state.batchers = Batchers(batch_limits(settings), app.state.metrics)
    app.state.explain_gate = ExplainGate(
        settings.explain_concurrency,
        settings.explain_queue_size,
        settings.retry_after_seconds,
        app.state.metrics,
    )


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost first: request id + access log, metrics, CORS, API keys, body limit, 500s."""
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout=settings.upload_timeout_seconds,
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
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestLogMiddleware)


def begin_drain(app: FastAPI) -> None:
    """SIGTERM: readiness turns false at once; in-flight requests still finish."""
    app.state.draining = True
    log.info("draining: readiness is now false")
