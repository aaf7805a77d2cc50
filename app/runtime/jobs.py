"""Long-running work (activation maximisation) as jobs: a bounded pool, a bounded queue,
progress, cancellation and expiry.

A job's work is a function `work(job) -> result dict`; it calls `job.report(step, value)`
after each step and stops (raising JobCancelledError) as soon as `job.cancelled` is set. At most
`max_running` jobs run at once and `max_queued` wait; past that, `submit` answers 503 with
Retry-After. Finished jobs are forgotten `ttl_seconds` after they finish.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from app.errors import JobNotFoundError, TooManyJobsError

log = logging.getLogger("lantern.jobs")

ACTIVE = frozenset({"queued", "running"})
DEFAULT_RETRY_AFTER = 5  # seconds, when no running job has progress to extrapolate from


class JobCancelledError(Exception):
    """Raised by a job's work when it sees the cancel flag."""


class JobSnapshot(BaseModel):
    """A job as GET /jobs/{id} reports it."""

    id: str
    kind: str = Field(description="what the job does, e.g. activation_maximisation")
    status: str = Field(description="queued, running, done, cancelled or failed")
    step: int = Field(description="steps done")
    steps: int
    objective: dict[str, Any] = Field(description="what the job optimises, and its parameters")
    history: list[float] = Field(description="the objective before each step")
    result: dict[str, Any] | None = Field(description="once done: the job's result")
    error: str | None = Field(default=None, description="once failed: why")


@dataclass
class Job:
    """One job's state; the worker writes it, requests read `snapshot()`."""

    id: str
    kind: str
    steps: int
    objective: dict[str, Any]
    status: str = "queued"
    step: int = 0
    history: list[float] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, step: int, value: float) -> None:
        """Record progress: `step` steps done; `value` is the objective before the step."""
        with self._lock:
            self.step = step
            self.history.append(float(value))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (done, cancelled or failed); False on timeout."""
        return self._done.wait(timeout)

    def check(self) -> None:
        """Raise JobCancelledError when cancellation was asked for."""
        if self._cancel.is_set():
            raise JobCancelledError

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(
                id=self.id,
                kind=self.kind,
                status=self.status,
                step=self.step,
                steps=self.steps,
                objective=self.objective,
                history=list(self.history),
                result=self.result,
                error=self.error,
            )


Work = Callable[[Job], dict[str, Any]]


class JobRegistry:
    """The jobs of one app: submitted, looked up, cancelled, expired."""

    def __init__(
        self,
        max_running: int,
        max_queued: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_running, self.max_queued, self.ttl = max_running, max_queued, ttl_seconds
        self.clock = clock
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, work: Work, kind: str, steps: int, objective: dict[str, Any]) -> Job:
        """Queue `work`; 503 with Retry-After when the pool and the queue are full."""
        with self._lock:
            self._expire()
            if self._active() >= self.max_running + self.max_queued:
                message = "Too many jobs are running or queued; retry later."
                raise TooManyJobsError(message, self._retry_after())
            job = Job(uuid.uuid4().hex, kind, steps, objective, created=self.clock())
            self._jobs[job.id] = job
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_running, thread_name_prefix="lantern-job")
            self._pool.submit(self._run, job, work)
            return job

    def get(self, job_id: str) -> Job:
        """The job, or 404 job_not_found (also once it has expired)."""
        with self._lock:
            self._expire()
            job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFoundError(f"No job '{job_id}' (unknown or expired).")
        return job

    def cancel(self, job_id: str) -> Job:
        """Ask the job to stop; a queued job is cancelled at once, a running one at its next
        step. Cancelling a finished job changes nothing."""
        job = self.get(job_id)
        job._cancel.set()
        with job._lock:
            if job.status == "queued":
                job.status, job.finished = "cancelled", self.clock()
                job._done.set()
        return job

    def close(self) -> None:
        """Cancel every job and stop the pool (at shutdown)."""
        with self._lock:
            for job in self._jobs.values():
                job._cancel.set()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, work: Work) -> None:
        with job._lock:
            if job.status != "queued":
                return
            job.status, job.started = "running", self.clock()
        status, result, error = "done", None, None
        try:
            result = work(job)
        except JobCancelledError:
            status = "cancelled"
        except Exception as failure:  # a failed job reports why; the pool lives on
            log.exception("job %s failed", job.id)
            status, error = "failed", f"{type(failure).__name__}: {failure}"
        with job._lock:
            job.status, job.result, job.error = status, result, error
            job.finished = self.clock()
        job._done.set()

    def running_count(self) -> int:
        """Jobs running now (the `/metrics` gauge)."""
        with self._lock:
            return sum(job.status == "running" for job in self._jobs.values())

    def _active(self) -> int:
        return sum(job.status in ACTIVE for job in self._jobs.values())

    def _expire(self) -> None:
        now = self.clock()
        for job_id, job in list(self._jobs.items()):
            if job.finished is not None and now - job.finished > self.ttl:
                del self._jobs[job_id]

    def _retry_after(self) -> int:
        """Seconds until the first running job should finish, from its pace so far."""
        now, estimates = self.clock(), []
        for job in self._jobs.values():
            if job.status == "running" and job.started is not None and job.step > 0:
                pace = (now - job.started) / job.step
                estimates.append(pace * (job.steps - job.step))
        return max(1, math.ceil(min(estimates))) if estimates else DEFAULT_RETRY_AFTER
