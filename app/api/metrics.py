"""Prometheus metrics: every Lantern metric in one CollectorRegistry per app. The middleware
that counts requests is `app.api.middleware.metrics`; GET /metrics is `app.api.routers.metrics`."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from app.runtime.batching import Batchers
from app.runtime.jobs import JobRunner
from app.runtime.registry import ModelRegistry

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
        self.jobs_running = Gauge("lantern_jobs_running", "jobs this replica runs", registry=r)
        self.requests_admitted = Gauge(
            "lantern_requests_admitted",
            "inference requests holding a model queue place (being read, decoded or run)",
            registry=r,
        )

        self.decoding_bytes = Gauge(
            "lantern_decoding_bytes",
            "memory held at the decode gate by images being decoded (estimated from headers)",
            registry=r,
        )

        self.receiving_bytes = Gauge(
            "lantern_receiving_bytes",
            "request body bytes held by requests in progress (the receiving budget)",
            registry=r,
        )
        self.connections_open = Gauge(
            "lantern_connections_open", "open HTTP connections (python -m app)", registry=r
        )
        self.connections_closed = Counter(
            "lantern_connections_closed",
            "connections closed or refused by a limit (evicted, refused, timeouts, size)",
            ["reason"],
            registry=r,
        )

    def batch_ran(self, model: str, images: int, waits: list[float]) -> None:
        self.batch_size.labels(model).observe(images)
        for wait in waits:
            self.queue_wait.labels(model).observe(wait)

    def connections_closed_by(self, reason: str) -> None:
        self.connections_closed.labels(reason).inc()

    def rejected(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    def watch(self, registry: ModelRegistry, jobs: JobRunner, batchers: Batchers) -> None:
        """Gauges read at scrape time: models loaded, jobs running, requests admitted."""
        self.models_loaded.set_function(registry.count)
        self.jobs_running.set_function(jobs.running_count)
        self.requests_admitted.set_function(batchers.admitted)
