"""The job runner over both stores: it rebuilds each job from its data through the kinds'
registry, records results and failures, passes cancels on, keeps long jobs leased, takes nothing
while draining, and hands its running jobs back at close."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from app.runtime.jobs import JobProgress, JobRunner
from tests.runtime.jobs.conftest import spec

DEADLINE = 10.0


class Models:
    """A model registry whose every model is the same stand-in."""

    def get(self, name: str, version: int | None = None) -> str:
        return f"{name} v{version}"


class DoubleParams(BaseModel):
    value: int


class NoParams(BaseModel):
    pass


class Double:
    """Doubles its parameter, in one step."""

    Params: ClassVar[type[BaseModel]] = DoubleParams

    def run(self, model: Any, params: DoubleParams, progress: JobProgress) -> dict[str, Any]:
        progress.report(1, float(params.value))
        return {"doubled": 2 * params.value, "model": model}


class Fail:
    Params: ClassVar[type[BaseModel]] = NoParams

    def run(self, model: Any, params: BaseModel, progress: JobProgress) -> dict[str, Any]:
        raise RuntimeError("boom")


class Hold:
    """Reports a step every few milliseconds until the test releases it."""

    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, model: Any, params: BaseModel, progress: JobProgress) -> dict[str, Any]:
        step = 0
        while not self.release.wait(0.01):
            step += 1
            progress.report(step, 0.0)
        return {"steps": step}


@pytest.fixture
def hold() -> Iterator[Hold]:
    kind = Hold()
    yield kind
    kind.release.set()


@pytest.fixture
def start_runner(hold: Hold):
    runners: list[JobRunner] = []

    def start(store, name: str = "runner-1") -> JobRunner:
        kinds = {"double": Double(), "fail": Fail(), "hold": hold}
        runner = JobRunner(store, kinds, Models(), name=name)  # type: ignore[arg-type]
        runner.start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.close(timeout=5)


def wait_until(store, job_id: str, done, deadline: float = DEADLINE):
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        job = store.get(job_id)
        if done(job):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} stayed {job.status} at step {job.step}")


def test_a_runner_runs_a_queued_job_from_its_data_and_records_the_result(make_store, start_runner):
    store = make_store()
    start_runner(store, "replica-7")
    job = store.submit(spec(kind="double", value=21))
    done = store.wait(job.id, DEADLINE)
    assert done.status == "done" and done.result == {"doubled": 42, "model": "tiny_digits v1"}
    assert (done.history, done.runner, done.attempts) == ([21.0], "replica-7", 1)


def test_a_failing_job_reports_why_and_the_runner_lives_on(make_store, start_runner):
    store = make_store(max_running=1)
    start_runner(store)
    failed = store.wait(store.submit(spec(kind="fail")).id, DEADLINE)
    assert failed.status == "failed" and failed.error == "RuntimeError: boom"
    assert store.wait(store.submit(spec(kind="double", value=1)).id, DEADLINE).status == "done"


def test_a_job_of_an_unknown_kind_fails_with_a_reason(make_store, start_runner):
    store = make_store()
    start_runner(store)
    failed = store.wait(store.submit(spec(kind="no_such_kind")).id, DEADLINE)
    assert failed.status == "failed" and "no job kind 'no_such_kind'" in failed.error


def test_a_cancel_stops_the_running_job_at_its_next_step(make_store, start_runner):
    store = make_store()
    start_runner(store)
    job = store.submit(spec(kind="hold"))
    wait_until(store, job.id, lambda j: j.step > 0)
    store.cancel(job.id)
    assert store.wait(job.id, DEADLINE).status == "cancelled"


def test_at_close_a_running_job_goes_back_to_the_queue_for_another_runner(
    make_store, start_runner, hold
):
    store = make_store()
    first = start_runner(store, "stopping")
    job = store.submit(spec(kind="hold"))
    wait_until(store, job.id, lambda j: j.step > 0)
    first.close(timeout=5)
    assert store.get(job.id).status == "queued"
    start_runner(store, "taking-over")
    wait_until(store, job.id, lambda j: j.runner == "taking-over" and j.step > 0)
    hold.release.set()
    done = store.wait(job.id, DEADLINE)
    assert (done.status, done.attempts, done.runner) == ("done", 2, "taking-over")


def test_the_heartbeat_keeps_a_job_leased_for_longer_than_its_lease(make_store, start_runner, hold):
    store = make_store(real_time=True, lease=0.6)
    start_runner(store, "alive")
    job = store.submit(spec(kind="hold"))
    wait_until(store, job.id, lambda j: j.step > 0)
    time.sleep(1.5)  # more than two leases
    store.heartbeat("another", [])  # would re-queue a job whose lease ran out
    hold.release.set()
    done = store.wait(job.id, DEADLINE)
    assert (done.status, done.attempts, done.runner) == ("done", 1, "alive")


def test_a_draining_runner_hands_its_job_back_and_takes_no_other(make_store, start_runner):
    store = make_store()
    runner = start_runner(store)
    running = store.submit(spec(kind="hold"))
    wait_until(store, running.id, lambda j: j.step > 0)
    assert runner.running_count() == 1
    runner.drain()
    wait_until(store, running.id, lambda j: j.status == "queued")
    waiting = store.submit(spec(kind="double", value=1))
    time.sleep(0.3)
    assert store.get(waiting.id).status == "queued" and runner.running_count() == 0
