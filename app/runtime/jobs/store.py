"""The one contract of a job store, kept by `MemoryJobStore` (this process) and
`RedisJobStore` (shared by replicas), and checked by the same tests for both.

The API side submits, reads, cancels and waits for jobs. A runner (one per replica) joins with
a heartbeat, claims queued jobs (taking their lease), reports progress, and finishes or
releases them; its heartbeat renews the leases of the jobs it runs, re-queues the jobs whose
lease ran out (their runner died) and forgets finished jobs past their time to live."""

from __future__ import annotations

from typing import Protocol

from app.runtime.jobs.records import Claim, JobLimits, JobSnapshot, JobSpec, Lease, Outcome


class JobStore(Protocol):
    """Queue and state of every job; see the module docstring."""

    limits: JobLimits

    def submit(self, spec: JobSpec) -> JobSnapshot:
        """Queue a job; TooManyJobsError (with Retry-After) past the running and queued bounds."""
        ...

    def get(self, job_id: str) -> JobSnapshot:
        """The job now; JobNotFoundError when unknown or expired."""
        ...

    def cancel(self, job_id: str) -> JobSnapshot:
        """Cancel a queued job at once; ask a running one to stop (its runner hears it at its
        next report or heartbeat); a finished job stays as it is."""
        ...

    def wait(self, job_id: str, timeout: float) -> JobSnapshot:
        """The job once it has finished, or as it is after `timeout` seconds."""
        ...

    def claim(self, runner: str, timeout: float) -> Claim | None:
        """Take the oldest queued job for `runner`, waiting up to `timeout` seconds for one."""
        ...

    def report(self, job_id: str, runner: str, step: int, value: float) -> Lease:
        """Record progress (`step` steps done; `value`, the objective before the step) and renew
        the lease; `cancelling` if a cancel was asked for, `lost` if the job is no longer
        this runner's (its lease ran out and it went back to the queue)."""
        ...

    def heartbeat(self, runner: str, running: list[str]) -> dict[str, Lease]:
        """`runner` is alive and still runs `running`: renew their leases and say how each
        stands; re-queue (or fail) jobs whose lease ran out; forget expired finished jobs."""
        ...

    def finish(self, job_id: str, runner: str, outcome: Outcome) -> bool:
        """Record how the run ended; False (and nothing changes) if the job is no longer
        `runner`'s."""
        ...

    def release(self, job_id: str, runner: str) -> None:
        """Hand a running job back to the front of the queue (its runner is shutting down);
        a job asked to cancel is cancelled instead."""
        ...

    def leave(self, runner: str) -> None:
        """`runner` stops: it no longer counts towards the capacity."""
        ...

    def close(self) -> None:
        """Release what the store holds in this process (at shutdown)."""
        ...
