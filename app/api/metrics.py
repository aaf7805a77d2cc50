"""Prometheus metrics: one CollectorRegistry per app, a middleware that counts every request by
its route template, and GET /metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

router = APIRouter(tags=["health"])

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    """Every Lantern metric, registered in this app's own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "lantern_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "lantern_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "lantern_queue_wait_seconds",
            "time from queueing to the start of the onnxruntime run",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "lantern_batch_size",
            "images per onnxruntime run",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.rejections = Counter(
            "lantern_rejected", "requests refused by back-pressure", ["reason"], registry=r
        )
        self.models_loaded = Gauge("lantern_models_loaded", "model versions loaded", registry=r)
        self.jobs_running = Gauge("lantern_jobs_running", "background jobs running", registry=r)
        self.requests_admitted = Gauge(
            "lantern_requests_admitted",
            "inference requests holding a model queue place (being read, decoded or run)",
            registry=r,
        )

    def batch_ran(self, model: str, images: int, waits: list[float]) -> None:
        self.batch_size.labels(model).observe(images)
        for wait in waits:
            self.queue_wait.labels(model).observe(wait)

    def rejected(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    def watch_app(self, state: Any) -> None:
        """Gauges read at scrape time from the app's state (registry, optional job registry,
        batchers once made)."""
        self.models_loaded.set_function(
            lambda: sum(len(versions) for versions in state.registry.models.values())
        )
        self.jobs_running.set_function(lambda: running_jobs(getattr(state, "jobs", None)))
        self.requests_admitted.set_function(
            lambda: state.batchers.admitted() if hasattr(state, "batchers") else 0
        )


def running_jobs(jobs: Any) -> int:
    """Running jobs of the job registry, whatever its shape; 0 when there is none."""
    if jobs is None:
        return 0
    for name in ("running_count", "count_running", "running"):
        attribute = getattr(jobs, name, None)
        if attribute is None:
            continue
        try:
            value = attribute() if callable(attribute) else attribute
            return value if isinstance(value, int) else len(value)
        except Exception:  # a job registry that changed shape must not break /metrics
            return 0
    by_id = getattr(jobs, "_jobs", None)  # app.jobs.JobRegistry has no public count yet
    if isinstance(by_id, dict):
        return sum(getattr(job, "status", None) == "running" for job in list(by_id.values()))
    return 0


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v2/models/{name}/infer`), never the raw path."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware: counts requests and times them by method, route and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(
                time.perf_counter() - started
            )


@router.get("/metrics", response_class=Response)
def get_metrics(request: Request) -> Response:
    """Prometheus metrics in the text exposition format."""
    metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
