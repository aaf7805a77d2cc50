"""create_app(settings): the FastAPI application, its shared services, and the lifespan that
loads the store."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
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
from app.api.routers import (
    docs,
    evaluate,
    explain,
    health,
    introspect,
    jobs,
    metrics,
    models,
    predict,
    ui,
)
from app.api.v1 import router as v1
from app.api.v2 import router as v2
from app.config import Settings
from app.imaging.decode_gate import DecodeGate
from app.job_kinds import JOB_KINDS
from app.runtime.batching import Batchers
from app.runtime.gate import ExplainGate
from app.runtime.jobs import JobRunner, JobStore, MemoryJobStore
from app.runtime.jobs.redis_store import RedisJobStore
from app.runtime.loader import load_store
from app.runtime.receiving import ReceivingBudget
from app.runtime.registry import BackgroundCheck, ModelRegistry

log = logging.getLogger("lantern")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = make_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = await run_in_threadpool(load_store, settings.model_store, settings.load_options)
        checking: BackgroundCheck | None = None
        services.registry.adopt(loaded)
        if settings.role != "predictor":  # a predictor runs no jobs, even with a shared store
            await run_in_threadpool(services.runner.start)
            if settings.explain_graphs == "background":
                checking = loaded.settle_gradients_in_background()
        log.info("ready: %d model(s), %d refused", len(loaded.models), len(loaded.refused))
        yield
        services.registry.ready = False
        if checking is not None:
            await run_in_threadpool(checking.stop, settings.shutdown_grace_seconds)
        await services.batchers.close()
        await run_in_threadpool(services.runner.close)  # running jobs go back to the queue
        services.jobs.close()

    app = FastAPI(
        title="Lantern",
        summary="Serve a CNN image classifier and show why it decided.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # app/api/docs.py serves /docs from local files
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app)
    install_openapi(app, settings.max_images_per_request)
    for router in routers_for(settings.role):
        app.include_router(router)
    app.mount("/static", ui.static_files(), name="static")
    install_middleware(app, settings, services.metrics, services.receiving)
    return app


def routers_for(role: str) -> list[APIRouter]:
    """The routes of a role: `all` (with the UI); `predictor`, predictions only; `explainer`,
    explanations, introspection and jobs, no predictions (a KServe explainer beside a
    predictor; docs/kserve.md). Metadata, health and metrics are in every role."""
    shared = [models.router, health.router, metrics.router, v1.router, v2.router]
    predicting = [predict.router, v1.predict_router, v2.infer_router]
    explaining = [
        explain.router,
        introspect.router,
        evaluate.router,
        jobs.router,
        v1.explain_router,
    ]
    # The inference routes first: a request is matched against the routes in order, and no
    # path of theirs overlaps another router's.
    if role == "predictor":
        return predicting + shared
    if role == "explainer":
        return explaining + shared
    return predicting + explaining + shared + [ui.router, docs.router]


def make_services(settings: Settings) -> Services:
    """Per-app registry, metrics, batchers, explain and decode gates, jobs (nothing global)."""
    metrics = Metrics()
    registry = ModelRegistry()
    batchers = Batchers(settings.batch_limits, metrics)
    jobs = make_job_store(settings)
    runner = JobRunner(jobs, JOB_KINDS, registry)
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
    receiving = ReceivingBudget(
        settings.max_receiving_bytes, settings.max_receiving_bytes // 8, metrics.rejected
    )
    metrics.watch(registry, runner, batchers)
    metrics.decoding_bytes.set_function(decode_gate.in_use)
    metrics.receiving_bytes.set_function(receiving.in_use)
    return Services(
        settings, registry, batchers, gate, jobs, runner, metrics, decode_gate, receiving
    )


def make_job_store(settings: Settings) -> JobStore:
    """Jobs in Redis when LANTERN_REDIS_URL is set (shared by replicas), else in memory."""
    if settings.redis_url:
        return RedisJobStore.from_url(
            settings.redis_url, settings.job_limits, settings.redis_prefix
        )
    return MemoryJobStore(settings.job_limits)


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
    """SIGTERM: readiness turns false at once; in-flight requests still finish; running jobs
    go back to the queue for another replica (or, without Redis, are cancelled at shutdown)."""
    app.state.services.draining = True
    # In a thread: draining waits for the idle workers, and this runs in a signal handler.
    threading.Thread(target=app.state.services.runner.drain, name="lantern-drain").start()
    log.info("draining: readiness is now false")
