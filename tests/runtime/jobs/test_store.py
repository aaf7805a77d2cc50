"""The job-store contract (`app.runtime.jobs.store`), each test run on the memory store and on
the Redis store: bounds, claims, progress, cancel, leases, hand-back, expiry and the caps on
finished jobs."""

from __future__ import annotations

import threading
import time

import pytest

from app.api.errors import as_api_error
from app.errors import JobNotFoundError, TooManyJobsError
from app.runtime.jobs.records import Outcome
from tests.runtime.jobs.conftest import spec


def claim(store, runner: str = "a"):
    claimed = store.claim(runner, 0.5)
    assert claimed is not None, "a queued job was expected"
    return claimed


def run_to_end(store, runner: str = "a", result: dict | None = None) -> str:
    taken = claim(store, runner)
    assert store.finish(taken.id, runner, Outcome("done", result=result or {"ok": True}))
    return taken.id


def test_jobs_beyond_the_running_and_queued_bounds_are_refused_with_retry_after(make_store):
    store = make_store(max_running=1, max_queued=1)
    store.submit(spec())
    store.submit(spec())
    with pytest.raises(TooManyJobsError) as refused:
        store.submit(spec())
    answer = as_api_error(refused.value)
    assert answer.status == 503 and answer.headers and int(answer.headers["Retry-After"]) >= 1


def test_retry_after_follows_the_pace_of_the_running_job(make_store, clock):
    store = make_store(max_running=1, max_queued=0)
    job = store.submit(spec(steps=100))
    claim(store)
    clock.now += 10
    store.report(job.id, "a", 10, 0.5)  # 1 s per step, 90 steps to go
    with pytest.raises(TooManyJobsError) as refused:
        store.submit(spec())
    assert refused.value.retry_after == 90


def test_each_live_runner_adds_its_running_places_to_the_capacity(make_store, clock):
    store = make_store(max_running=1, max_queued=0, lease=10)
    store.heartbeat("a", [])
    store.heartbeat("b", [])
    store.submit(spec())
    store.submit(spec())
    with pytest.raises(TooManyJobsError):
        store.submit(spec())
    run_to_end(store, "a")
    run_to_end(store, "b")
    clock.now += 11  # both runners fell silent: the room of one runner is left
    store.submit(spec())
    with pytest.raises(TooManyJobsError):
        store.submit(spec())


def test_runners_claim_the_oldest_job_first_and_each_job_once(make_store):
    store = make_store(max_queued=8)
    first, second = store.submit(spec()), store.submit(spec())
    assert claim(store, "a").id == first.id
    assert claim(store, "b").id == second.id
    assert store.claim("c", 0.05) is None


def test_a_claim_waits_for_a_job_submitted_meanwhile(make_store):
    store = make_store()
    timer = threading.Timer(0.1, store.submit, [spec()])
    timer.start()
    started = time.monotonic()
    taken = store.claim("a", 5.0)
    timer.join()
    assert taken is not None and time.monotonic() - started < 4.0


def test_progress_is_recorded_and_read_back_with_its_runner(make_store):
    store = make_store()
    job = store.submit(spec(steps=3))
    assert (job.status, job.step, job.attempts, job.runner) == ("queued", 0, 0, None)
    taken = claim(store, "replica-1")
    assert taken.spec == spec(steps=3) and taken.attempt == 1
    assert store.report(job.id, "replica-1", 1, 0.25) == "running"
    assert store.report(job.id, "replica-1", 2, 0.5) == "running"
    seen = store.get(job.id)
    assert (seen.status, seen.step, seen.steps, seen.history) == ("running", 2, 3, [0.25, 0.5])
    assert (seen.attempts, seen.runner) == (1, "replica-1")


def test_a_finished_job_keeps_its_result_and_a_cancel_changes_nothing(make_store):
    store = make_store()
    store.submit(spec())
    job_id = run_to_end(store, result={"png": "abc", "objective": 1.5})
    assert store.cancel(job_id).status == "done"
    assert store.get(job_id).result == {"png": "abc", "objective": 1.5}


def test_a_failed_job_reports_why(make_store):
    store = make_store()
    store.submit(spec())
    taken = claim(store)
    store.finish(taken.id, "a", Outcome("failed", error="RuntimeError: boom"))
    seen = store.get(taken.id)
    assert (seen.status, seen.error, seen.result) == ("failed", "RuntimeError: boom", None)


def test_a_queued_job_is_cancelled_at_once_and_never_claimed(make_store):
    store = make_store()
    job = store.submit(spec())
    assert store.cancel(job.id).status == "cancelled"
    assert store.claim("a", 0.05) is None


def test_a_running_job_hears_its_cancel_at_its_next_report_and_heartbeat(make_store):
    store = make_store()
    job = store.submit(spec())
    claim(store)
    assert store.cancel(job.id).status == "running"
    assert store.heartbeat("a", [job.id]) == {job.id: "cancelling"}
    assert store.report(job.id, "a", 1, 0.0) == "cancelling"
    assert store.finish(job.id, "a", Outcome("cancelled"))
    assert store.get(job.id).status == "cancelled"


def test_a_job_whose_lease_runs_out_is_requeued_then_failed_with_a_reason(make_store, clock):
    store = make_store(lease=10, retries=1)
    job = store.submit(spec())
    claim(store, "dead-1")
    clock.now += 11
    store.heartbeat("b", [])
    assert store.get(job.id).status == "queued"
    assert claim(store, "dead-2").attempt == 2
    clock.now += 11
    store.heartbeat("b", [])
    failed = store.get(job.id)
    assert failed.status == "failed" and "dead-2" in failed.error and "lease" in failed.error


def test_a_job_asked_to_cancel_whose_runner_died_ends_cancelled(make_store, clock):
    store = make_store(lease=10)
    job = store.submit(spec())
    claim(store, "dead")
    store.cancel(job.id)
    clock.now += 11
    store.heartbeat("b", [])
    assert store.get(job.id).status == "cancelled"


def test_a_runner_that_lost_its_lease_can_neither_report_nor_finish(make_store, clock):
    store = make_store(lease=10)
    job = store.submit(spec())
    claim(store, "slow")
    clock.now += 11
    store.heartbeat("b", [])
    assert store.heartbeat("slow", [job.id]) == {job.id: "lost"}
    assert store.report(job.id, "slow", 5, 1.0) == "lost"
    assert not store.finish(job.id, "slow", Outcome("done", result={"stale": True}))
    assert store.get(job.id).status == "queued"


def test_a_renewed_lease_does_not_run_out(make_store, clock):
    store = make_store(lease=10)
    job = store.submit(spec())
    claim(store, "a")
    for _ in range(3):
        clock.now += 6
        assert store.heartbeat("a", [job.id]) == {job.id: "running"}
    store.heartbeat("b", [])
    assert store.get(job.id).status == "running"


def test_a_released_job_goes_back_to_the_front_of_the_queue(make_store):
    store = make_store()
    first = store.submit(spec())
    store.submit(spec())
    taken = claim(store, "stopping")
    store.report(first.id, "stopping", 1, 0.5)
    store.release(taken.id, "stopping")
    assert store.get(first.id).status == "queued"
    again = claim(store, "b")
    assert (again.id, again.attempt) == (first.id, 2)
    assert store.get(first.id).history == []


def test_a_released_job_that_was_asked_to_cancel_is_cancelled(make_store):
    store = make_store()
    job = store.submit(spec())
    claim(store, "stopping")
    store.cancel(job.id)
    store.release(job.id, "stopping")
    assert store.get(job.id).status == "cancelled"


def test_finished_jobs_expire_after_the_ttl(make_store, clock):
    store = make_store(ttl=60)
    store.submit(spec())
    job_id = run_to_end(store)
    clock.now += 59
    assert store.get(job_id).status == "done"
    clock.now += 2
    with pytest.raises(JobNotFoundError, match="unknown or expired"):
        store.get(job_id)


def test_past_the_count_cap_the_oldest_finished_job_is_evicted(make_store, clock):
    store = make_store(max_finished=2, max_queued=8)
    waiting = store.submit(spec())
    claim(store)  # the first job runs and is not finished: never evicted
    finished = []
    for _ in range(3):
        store.submit(spec())
        clock.now += 1
        finished.append(run_to_end(store, "b"))
    with pytest.raises(JobNotFoundError):
        store.get(finished[0])
    assert [store.get(job_id).status for job_id in finished[1:]] == ["done", "done"]
    assert store.get(waiting.id).status == "running"


def test_past_the_byte_cap_the_oldest_go_and_the_newest_stays(make_store, clock):
    store = make_store(max_finished_bytes=2000, max_queued=8)
    ids = []
    for size in (900, 900, 900, 5000):
        store.submit(spec())
        clock.now += 1
        ids.append(run_to_end(store, result={"png": "x" * size}))
    for gone in ids[:3]:
        with pytest.raises(JobNotFoundError):
            store.get(gone)
    assert len(store.get(ids[3]).result["png"]) == 5000  # alone over the cap, but the newest


def test_two_results_under_the_byte_cap_are_both_kept(make_store, clock):
    store = make_store(max_finished_bytes=2000, max_queued=8)
    ids = []
    for _ in range(2):
        store.submit(spec())
        ids.append(run_to_end(store, result={"png": "x" * 700}))
    assert [store.get(job_id).status for job_id in ids] == ["done", "done"]


def test_a_finished_jobs_parameters_count_against_the_byte_cap(make_store, clock):
    """An evaluation's parameters carry its images: they count once the job is finished."""
    store = make_store(max_finished_bytes=2000, max_queued=8)
    ids = []
    for _ in range(2):
        store.submit(spec(images="x" * 900))
        clock.now += 1
        ids.append(run_to_end(store))
    with pytest.raises(JobNotFoundError):
        store.get(ids[0])
    assert store.get(ids[1]).status == "done"


@pytest.mark.parametrize("action", ["get", "cancel"])
def test_an_unknown_job_is_not_found(make_store, action):
    with pytest.raises(JobNotFoundError):
        getattr(make_store(), action)("no-such-job")


def test_wait_returns_as_soon_as_the_job_finishes(make_store):
    store = make_store()
    job = store.submit(spec())
    taken = claim(store)
    timer = threading.Timer(0.1, store.finish, [taken.id, "a", Outcome("done", result={})])
    timer.start()
    started = time.monotonic()
    assert store.wait(job.id, 5.0).status == "done"
    timer.join()
    assert time.monotonic() - started < 4.0


def test_wait_gives_up_after_its_timeout(make_store):
    store = make_store()
    job = store.submit(spec())
    claim(store)
    assert store.wait(job.id, 0.1).status == "running"
