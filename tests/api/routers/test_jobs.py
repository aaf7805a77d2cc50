"""Jobs: activation maximisation through /jobs, cancellation, the bounds, and the
JobRegistry itself (bounded pool and queue, expiry, failures)."""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api.errors import as_api_error
from app.config import Settings
from app.errors import JobNotFoundError, TooManyJobsError
from app.main import create_app
from app.runtime.jobs import JobRegistry
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


@pytest.fixture(scope="module")
def busy_client(tiny_store) -> Iterator[TestClient]:
    """One job may run and none wait; a job may take very many steps."""
    settings = Settings(
        model_store=tiny_store, max_running_jobs=1, max_queued_jobs=0, max_activation_steps=10**5
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
    assert services_of(busy_client).jobs.get(accepted["job_id"]).wait(DEADLINE)  # it has stopped
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


# The registry on its own, with work that waits for the test.


class Gate:
    """Work that blocks until released, reporting one step; or fails when asked."""

    def __init__(self, fail: bool = False) -> None:
        self.release, self.entered, self.fail = threading.Event(), threading.Event(), fail

    def __call__(self, job):
        job.report(1, 0.5)
        self.entered.set()
        while not self.release.wait(0.005):
            job.check()
        if self.fail:
            raise RuntimeError("boom")
        return {"ok": True}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jobs() -> Iterator[JobRegistry]:
    registry = JobRegistry(max_running=1, max_queued=1, ttl_seconds=60, clock=Clock())
    yield registry
    registry.close()


def test_jobs_beyond_the_running_and_queued_bounds_are_refused(jobs):
    running, queued = Gate(), Gate()
    first = jobs.submit(running, "test", 1, {})
    second = jobs.submit(queued, "test", 1, {})
    with pytest.raises(TooManyJobsError) as refused:
        jobs.submit(Gate(), "test", 1, {})
    answer = as_api_error(refused.value)
    assert answer.status == 503 and answer.headers and "Retry-After" in answer.headers
    assert running.entered.wait(5) and jobs.get(second.id).status == "queued"
    running.release.set()
    queued.release.set()
    assert first.wait(5) and second.wait(5)
    assert (first.snapshot().result, second.status) == ({"ok": True}, "done")


def test_a_queued_job_is_cancelled_at_once_and_never_runs(jobs):
    running, queued = Gate(), Gate()
    jobs.submit(running, "test", 1, {})
    waiting = jobs.submit(queued, "test", 1, {})
    assert jobs.cancel(waiting.id).status == "cancelled"
    running.release.set()
    after = Gate()
    after.release.set()
    # One worker takes jobs in order: once a later job is done, the cancelled one had its turn.
    assert jobs.submit(after, "test", 1, {}).wait(5)
    assert not queued.entered.is_set() and waiting.status == "cancelled"


def test_a_failing_job_reports_why_and_the_pool_lives_on(jobs):
    failing = Gate(fail=True)
    failing.release.set()
    job = jobs.submit(failing, "test", 1, {})
    assert job.wait(5)
    assert job.snapshot().status == "failed" and "boom" in job.snapshot().error
    works = Gate()
    works.release.set()
    assert jobs.submit(works, "test", 1, {}).wait(5)


def test_finished_jobs_expire_after_the_ttl(jobs):
    work = Gate()
    work.release.set()
    job = jobs.submit(work, "test", 1, {})
    assert job.wait(5)
    jobs.clock.now += 59
    assert jobs.get(job.id) is job
    jobs.clock.now += 2
    with pytest.raises(JobNotFoundError, match="unknown or expired"):
        jobs.get(job.id)
