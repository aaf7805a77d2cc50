"""A replica's job runner: `max_running` worker threads that claim queued jobs from the store,
rebuild each one's work from its kind (`JobSpec` -> `JobKind.run`) and run it, and a heartbeat
thread that keeps this runner counted, renews the leases of its jobs, passes cancels on to
them, and lets the store re-queue the jobs of runners that died.

At SIGTERM (`drain`) the runner takes no more jobs, and its running jobs stop at their next
step and go back to the front of the queue, where another replica takes them at once."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from functools import partial

from app.runtime.jobs.kinds import JobCancelledError, JobKind, JobLostError, JobProgress
from app.runtime.jobs.records import Claim, Outcome
from app.runtime.jobs.store import JobStore
from app.runtime.registry import ModelRegistry

log = logging.getLogger("lantern.jobs")

POLL_SECONDS = 0.5  # longest wait for a queued job before a worker looks at its stop flag
STORE_RETRY_SECONDS = 1.0  # pause after the store failed to answer


def runner_name() -> str:
    """This process, as jobs and logs name it: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobRunner:
    """Runs the jobs this replica takes; see the module docstring."""

    def __init__(
        self,
        store: JobStore,
        kinds: Mapping[str, JobKind],
        models: ModelRegistry,
        name: str | None = None,
    ) -> None:
        self.store, self.kinds, self.models = store, kinds, models
        self.name = name or runner_name()
        self._running: dict[str, JobProgress] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # no new claims
        self._closing = threading.Event()  # the heartbeat stops
        self._threads: list[threading.Thread] = []
        self._claiming = 0  # workers waiting for a job now

    def start(self) -> None:
        """Join the store and start the workers and the heartbeat."""
        self._beat_once()
        for index in range(self.store.limits.max_running):
            self._spawn(self._work, f"lantern-job-{index}")
        self._spawn(self._heartbeat, "lantern-job-heartbeat")

    def drain(self) -> None:
        """Take no more jobs, and hand the running ones back to the queue at their next step
        (once no worker is still waiting for a job, so that none of ours takes one back)."""
        self._stopping.set()
        idle_by = time.monotonic() + POLL_SECONDS + STORE_RETRY_SECONDS
        while self._claiming and time.monotonic() < idle_by:
            time.sleep(0.01)
        with self._lock:
            for progress in self._running.values():
                progress.hand_back()

    def close(self, timeout: float = 10.0) -> None:
        """Drain, wait for the workers and the heartbeat to end, and leave the store."""
        self.drain()
        for thread in self._threads[:-1]:  # the workers, then the heartbeat
            thread.join(timeout)
        self._closing.set()
        if self._threads:
            self._threads[-1].join(timeout)
        try:
            self.store.leave(self.name)
        except Exception:  # the store is unreachable: our heartbeat simply runs out
            log.warning("job runner %s could not leave the store", self.name)

    def running_count(self) -> int:
        """Jobs this replica runs now (the `/metrics` gauge)."""
        with self._lock:
            return len(self._running)

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while not self._stopping.is_set():
            claim = self._claim()
            if claim is not None:
                self._run(claim)

    def _claim(self) -> Claim | None:
        with self._lock:
            self._claiming += 1
        try:
            return self.store.claim(self.name, POLL_SECONDS)
        except Exception:
            log.exception("job runner %s could not claim a job", self.name)
            self._stopping.wait(STORE_RETRY_SECONDS)
            return None
        finally:
            with self._lock:
                self._claiming -= 1

    def _run(self, claim: Claim) -> None:
        progress = JobProgress(partial(self.store.report, claim.id, self.name))
        with self._lock:
            self._running[claim.id] = progress
        if self._stopping.is_set():
            progress.hand_back()  # claimed just as the replica began to drain
        log.info("job %s (%s) started, attempt %d", claim.id, claim.spec.kind, claim.attempt)
        try:
            outcome = self._outcome(claim, progress)
        finally:
            with self._lock:
                del self._running[claim.id]
        try:
            if outcome is not None:
                self.store.finish(claim.id, self.name, outcome)
                log.info("job %s %s", claim.id, outcome.status)
            elif self._stopping.is_set():
                self.store.release(claim.id, self.name)
                log.info("job %s handed back to the queue", claim.id)
        except Exception:  # its lease runs out and another replica takes it
            log.exception("job %s: the store did not take its outcome", claim.id)

    def _outcome(self, claim: Claim, progress: JobProgress) -> Outcome | None:
        """How the run ended; None when the job is no longer this runner's."""
        spec = claim.spec
        try:
            kind = self.kinds.get(spec.kind)
            if kind is None:
                return Outcome("failed", error=f"This server has no job kind '{spec.kind}'.")
            model = self.models.get(spec.model, spec.version)
            result = kind.run(model, kind.Params.model_validate(spec.parameters), progress)
            return Outcome("done", result=result)
        except JobCancelledError:
            return Outcome("cancelled")
        except JobLostError:
            return None
        except Exception as failure:  # a failed job reports why; the runner lives on
            log.exception("job %s failed", claim.id)
            return Outcome("failed", error=f"{type(failure).__name__}: {failure}")

    def _heartbeat(self) -> None:
        interval = max(0.05, self.store.limits.lease / 3)
        while not self._closing.wait(interval):
            self._beat_once()

    def _beat_once(self) -> None:
        with self._lock:
            running = dict(self._running)
        try:
            states = self.store.heartbeat(self.name, list(running))
        except Exception:
            log.exception("job runner %s: heartbeat failed", self.name)
            return
        for job_id, state in states.items():
            if job_id in running:
                running[job_id].hear(state)
