"""The embedded job store: jobs in this process's memory (the default, without Redis). It keeps
the same contract as the shared store (`app.runtime.jobs.store`), leases included, so one set
of tests checks both."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.errors import JobNotFoundError, TooManyJobsError
from app.runtime.jobs.records import (
    FINISHED,
    Claim,
    JobLimits,
    JobSnapshot,
    JobSpec,
    Lease,
    Outcome,
    lost_message,
    result_json,
    retry_after,
    stored_bytes,
)

SHUTDOWN = "The server shut down before the job finished."


@dataclass(eq=False)
class _Entry:
    """One job's state."""

    id: str
    spec: JobSpec
    created: float
    status: str = "queued"
    step: int = 0
    history: list[float] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    runner: str | None = None
    attempts: int = 0
    lost: int = 0
    lease_until: float = 0.0
    cancel: bool = False
    size: int = 0

    def snapshot(self) -> JobSnapshot:
        return JobSnapshot(
            id=self.id,
            kind=self.spec.kind,
            status=self.status,  # type: ignore[arg-type]
            step=self.step,
            steps=self.spec.steps,
            objective=self.spec.objective,
            history=list(self.history),
            result=self.result,
            error=self.error,
            attempts=self.attempts,
            runner=self.runner,
        )


class MemoryJobStore:
    """Jobs of this process, behind one lock; runners wait on its condition."""

    def __init__(self, limits: JobLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._jobs: dict[str, _Entry] = {}
        self._queue: deque[str] = deque()
        self._finished: OrderedDict[str, None] = OrderedDict()  # oldest first
        self._finished_bytes = 0
        self._runners: dict[str, float] = {}  # runner -> alive until
        self._changed = threading.Condition()

    def submit(self, spec: JobSpec) -> JobSnapshot:
        with self._changed:
            now = self.clock()
            self._expire(now)
            if self._active() >= self._capacity(now):
                message = "Too many jobs are running or queued; retry later."
                raise TooManyJobsError(message, self._retry_after(now))
            entry = _Entry(uuid.uuid4().hex, spec, created=now)
            self._jobs[entry.id] = entry
            self._queue.append(entry.id)
            self._changed.notify_all()
            return entry.snapshot()

    def get(self, job_id: str) -> JobSnapshot:
        with self._changed:
            self._expire(self.clock())
            return self._entry(job_id).snapshot()

    def cancel(self, job_id: str) -> JobSnapshot:
        with self._changed:
            entry = self._entry(job_id)
            if entry.status == "queued":
                self._queue.remove(job_id)
                self._finish(entry, Outcome("cancelled"))
            elif entry.status == "running":
                entry.cancel = True
            return entry.snapshot()

    def wait(self, job_id: str, timeout: float) -> JobSnapshot:
        deadline = time.monotonic() + timeout
        with self._changed:
            entry = self._entry(job_id)
            while entry.status not in FINISHED and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return entry.snapshot()

    def claim(self, runner: str, timeout: float) -> Claim | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            entry = self._jobs[self._queue.popleft()]
            now = self.clock()
            entry.status, entry.runner, entry.started = "running", runner, now
            entry.step, entry.history, entry.attempts = 0, [], entry.attempts + 1
            entry.lease_until = now + self.limits.lease
            return Claim(entry.id, entry.spec, entry.attempts)

    def report(self, job_id: str, runner: str, step: int, value: float) -> Lease:
        with self._changed:
            entry = self._jobs.get(job_id)
            state = self._renew(entry, runner, self.clock())
            if entry is not None and state != "lost":
                entry.step = step
                entry.history.append(float(value))
            return state

    def heartbeat(self, runner: str, running: list[str]) -> dict[str, Lease]:
        with self._changed:
            now = self.clock()
            self._runners[runner] = now + self.limits.lease
            states = {
                job_id: self._renew(self._jobs.get(job_id), runner, now) for job_id in running
            }
            self._reap(now)
            self._expire(now)
            return states

    def finish(self, job_id: str, runner: str, outcome: Outcome) -> bool:
        with self._changed:
            entry = self._jobs.get(job_id)
            if not _owned(entry, runner):
                return False
            assert entry is not None
            self._finish(entry, outcome)
            return True

    def release(self, job_id: str, runner: str) -> None:
        with self._changed:
            entry = self._jobs.get(job_id)
            if not _owned(entry, runner):
                return
            assert entry is not None
            if entry.cancel:
                self._finish(entry, Outcome("cancelled"))
                return
            entry.status, entry.step, entry.history = "queued", 0, []
            self._queue.appendleft(job_id)
            self._changed.notify_all()

    def leave(self, runner: str) -> None:
        with self._changed:
            self._runners.pop(runner, None)

    def close(self) -> None:
        """Nothing outlives this process: every job not yet finished is cancelled."""
        with self._changed:
            self._queue.clear()
            for entry in list(self._jobs.values()):
                if entry.status not in FINISHED:
                    self._finish(entry, Outcome("cancelled", error=SHUTDOWN))

    # ---- under the lock ----------------------------------------------------------------------

    def _entry(self, job_id: str) -> _Entry:
        entry = self._jobs.get(job_id)
        if entry is None:
            raise JobNotFoundError(f"No job '{job_id}' (unknown or expired).")
        return entry

    def _renew(self, entry: _Entry | None, runner: str, now: float) -> Lease:
        if entry is None or not _owned(entry, runner):
            return "lost"
        entry.lease_until = now + self.limits.lease
        return "cancelling" if entry.cancel else "running"

    def _finish(self, entry: _Entry, outcome: Outcome) -> None:
        entry.status, entry.result, entry.error = outcome.status, outcome.result, outcome.error
        entry.finished = self.clock()
        result, spec = result_json(entry.result), entry.spec.model_dump_json()
        entry.size = stored_bytes(result, entry.error, len(entry.history), spec)
        self._finished[entry.id] = None
        self._finished_bytes += entry.size
        limits = self.limits
        while len(self._finished) > 1 and (
            len(self._finished) > limits.max_finished
            or self._finished_bytes > limits.max_finished_bytes
        ):
            self._drop(next(iter(self._finished)))
        self._changed.notify_all()

    def _drop(self, job_id: str) -> None:
        del self._finished[job_id]
        self._finished_bytes -= self._jobs.pop(job_id).size

    def _reap(self, now: float) -> None:
        """Jobs whose lease ran out go back to the queue, or fail past the retries."""
        for entry in list(self._jobs.values()):
            if entry.status != "running" or entry.lease_until > now:
                continue
            entry.lost += 1
            if entry.cancel:
                self._finish(entry, Outcome("cancelled"))
            elif entry.lost > self.limits.retries:
                message = lost_message(entry.runner or "?", self.limits.retries)
                self._finish(entry, Outcome("failed", error=message))
            else:
                entry.status = "queued"
                self._queue.appendleft(entry.id)
                self._changed.notify_all()

    def _expire(self, now: float) -> None:
        while self._finished:
            oldest = self._jobs[next(iter(self._finished))]
            if oldest.finished is None or now - oldest.finished <= self.limits.ttl:
                return
            self._drop(oldest.id)

    def _active(self) -> int:
        return sum(entry.status in ("queued", "running") for entry in self._jobs.values())

    def _capacity(self, now: float) -> int:
        alive = sum(until > now for until in self._runners.values())
        return max(1, alive) * self.limits.max_running + self.limits.max_queued

    def _retry_after(self, now: float) -> int:
        running = [
            (entry.started or now, entry.step, entry.spec.steps)
            for entry in self._jobs.values()
            if entry.status == "running"
        ]
        return retry_after(now, running)


def _owned(entry: _Entry | None, runner: str) -> bool:
    return entry is not None and entry.status == "running" and entry.runner == runner
