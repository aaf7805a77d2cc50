"""GET /metrics: Prometheus text with requests by route template, latency, batches, models
and jobs, from a registry of the app's own."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.api.metrics import Metrics
from app.main import create_app
from app.runtime.batching import Batchers, BatchLimits
from app.runtime.jobs import JobLimits, JobRunner, JobSpec, MemoryJobStore
from app.runtime.registry import ModelRegistry

PNG = {"content-type": "image/png"}


class Nothing(BaseModel):
    pass


def samples(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    rows = (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, value in rows}


def test_metrics_count_requests_by_route_template_and_status(settings, digit_png):
    with TestClient(create_app(settings)) as client:
        client.post("/predict", content=digit_png, headers=PNG)
        client.get("/models/tiny_rgb")
        client.get("/models/nope")
        client.get("/no/such/page")
        seen = samples(client)
    assert seen['lantern_requests_total{method="POST",route="/predict",status="200"}'] == 1
    assert seen['lantern_requests_total{method="GET",route="/models/{name}",status="200"}'] == 1
    assert seen['lantern_requests_total{method="GET",route="/models/{name}",status="404"}'] == 1
    assert seen['lantern_requests_total{method="GET",route="unmatched",status="404"}'] == 1
    assert seen['lantern_request_duration_seconds_count{method="POST",route="/predict"}'] == 1


def test_metrics_show_batches_queue_wait_and_loaded_models(settings, digit_png):
    with TestClient(create_app(settings)) as client:
        client.post("/predict?model=tiny_rgb", content=digit_png, headers=PNG)
        seen = samples(client)
    assert seen['lantern_batch_size_sum{model="tiny_rgb"}'] == 1
    assert seen['lantern_queue_wait_seconds_count{model="tiny_rgb"}'] == 1
    assert seen["lantern_models_loaded"] == 3
    assert seen["lantern_jobs_running"] == 0


def test_two_apps_keep_separate_metrics(settings, digit_png):
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        one.post("/predict", content=digit_png, headers=PNG)
        key = 'lantern_requests_total{method="POST",route="/predict",status="200"}'
        assert samples(one)[key] == 1
        assert key not in samples(two)


def test_metrics_are_in_the_prometheus_text_format(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE lantern_request_duration_seconds histogram" in response.text


class Wait:
    """A job kind that waits for the test."""

    Params = Nothing

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, model: object, params: Nothing, progress: object) -> dict:
        self.release.wait(5)
        return {}


def test_the_jobs_gauge_counts_the_jobs_this_replica_runs():
    metrics, store, kind = Metrics(), MemoryJobStore(JobLimits(max_running=1)), Wait()
    registry = ModelRegistry()
    models = SimpleNamespace(get=lambda name, version: name)  # any model will do
    runner = JobRunner(store, {"wait": kind}, models)  # type: ignore[dict-item, arg-type]
    metrics.watch(registry, runner, Batchers(BatchLimits()))
    runner.start()
    job = store.submit(JobSpec(kind="wait", model="m", version=1, parameters={}, steps=1))
    try:
        assert _gauge_reaches(metrics, 1.0)
    finally:
        kind.release.set()
    assert store.wait(job.id, 5).finished and _gauge_reaches(metrics, 0.0)
    runner.close()


def _gauge_reaches(metrics: Metrics, value: float) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if metrics.registry.get_sample_value("lantern_jobs_running") == value:
            return True
        time.sleep(0.01)
    return False
