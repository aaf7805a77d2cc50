"""Jobs through the API: activation maximisation through /jobs, cancellation and the bounds,
with jobs in memory and in Redis (the stores and the runner on their own are tested in
tests/runtime/jobs)."""

from __future__ import annotations

import base64
import io
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.main import create_app
from bench.server import free_port
from tests.conftest import services_of

DEADLINE = 20.0  # seconds a test waits for a job


def wait_for(client: TestClient, url: str, done: Callable[[dict], bool]) -> dict:
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        body = client.get(url).json()
        if done(body):
            return body
        time.sleep(0.02)
    raise AssertionError(f"job did not get there in time: {body['status']} {body['step']}")


def start(client: TestClient, **body) -> dict:
    response = client.post("/models/tiny_digits/activation_maximisation", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def job_settings(request: pytest.FixtureRequest, store: Path, **fields: object) -> Settings:
    """Settings with jobs in memory, or in the session's Redis (under a prefix of their own)."""
    if request.param == "redis":
        fields |= {"redis_url": request.getfixturevalue("redis_url")}
        fields |= {"redis_prefix": f"test:{uuid.uuid4().hex}"}
    return Settings(model_store=store, default_model="tiny_digits", **fields)


@pytest.fixture(scope="module", params=["memory", "redis"])
def client(request, tiny_store) -> Iterator[TestClient]:
    with TestClient(create_app(job_settings(request, tiny_store))) as client:
        yield client


@pytest.fixture(scope="module", params=["memory", "redis"])
def busy_client(request, tiny_store) -> Iterator[TestClient]:
    """One job may run and none wait; a job may take very many steps."""
    settings = job_settings(
        request, tiny_store, max_running_jobs=1, max_queued_jobs=0, max_activation_steps=10**5
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_a_class_objective_raises_its_logit_over_the_steps(client):
    accepted = start(
        client, **{"class": 3, "steps": 25, "seed": 1, "npy": True, "learning_rate": 0.2}
    )
    assert accepted["status_url"] == f"/jobs/{accepted['job_id']}"
    body = wait_for(client, accepted["status_url"], lambda b: b["status"] == "done")
    history = body["history"]
    assert (body["step"], body["steps"], len(history)) == (25, 25, 25)
    assert history[-1] > history[0] + 0.5 and body["result"]["objective"] > history[-1]
    assert body["objective"]["kind"] == "class" and body["objective"]["label"] == "class_3"
    image = Image.open(io.BytesIO(base64.b64decode(body["result"]["png"])))
    assert image.size == (224, 224)
    tensor = np.load(io.BytesIO(base64.b64decode(body["result"]["npy"])))
    assert tensor.shape == (1, 28, 28) and tensor.min() >= -2.0 and tensor.max() <= 2.0


def test_a_channel_objective_runs_and_reports_its_seed(client):
    accepted = start(client, channel=2, layer="conv", steps=5, jitter=1, tv=0.1, blur_every=2)
    body = wait_for(client, accepted["status_url"], lambda b: b["status"] == "done")
    assert body["objective"]["layer"] == "conv" and body["objective"]["channel"] == 2
    assert isinstance(body["objective"]["parameters"]["seed"], int)
    assert "npy" not in body["result"]


def test_cancel_stops_a_running_job(busy_client):
    accepted = start(busy_client, **{"class": 1, "steps": 10**5})
    url = accepted["status_url"]
    wait_for(busy_client, url, lambda b: b["step"] > 0)
    cancelled = busy_client.delete(url)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert services_of(busy_client).jobs.wait(accepted["job_id"], DEADLINE).finished  # stopped
    body = busy_client.get(url).json()
    assert body["status"] == "cancelled" and body["step"] < 10**5 and body["result"] is None


def test_over_the_concurrency_bound_the_answer_is_503_with_retry_after(busy_client):
    first = start(busy_client, **{"class": 1, "steps": 10**5})
    try:
        wait_for(busy_client, first["status_url"], lambda b: b["step"] > 0)
        response = busy_client.post(
            "/models/tiny_digits/activation_maximisation", json={"class": 2}
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "too_many_jobs"
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        busy_client.delete(first["status_url"])


@pytest.mark.parametrize("method", ["get", "delete"])
def test_an_unknown_job_is_404(client, method):
    response = getattr(client, method)("/jobs/no-such-job")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "job_not_found")


def test_an_unreachable_job_store_answers_503_and_the_server_stays_ready(tiny_store):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(model_store=tiny_store, default_model="tiny_digits", redis_url=closed)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        started = client.post("/models/tiny_digits/activation_maximisation", json={"class": 1})
        read = client.get("/jobs/some-job")
        ready = client.get("/health/ready")
    for answer in (started, read):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "job_store_unavailable"
        assert int(answer.headers["Retry-After"]) >= 1
    assert ready.status_code == 200
