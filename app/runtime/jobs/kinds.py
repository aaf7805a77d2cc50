"""What a kind of job is (`JobKind`: plan a job as data, run it from that data) and the handle
its work reports through (`JobProgress`).

The kinds live in one explicit registry, `app.job_kinds.JOB_KINDS`, keyed by the name that
`JobSpec.kind` and `JobSnapshot.kind` carry."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from app.runtime.jobs.records import JobSpec, Lease
from app.runtime.model import RunningModel


class JobCancelledError(Exception):
    """Raised by `JobProgress` once the job was asked to cancel."""


class JobLostError(Exception):
    """Raised by `JobProgress` once the job is no longer this runner's: its lease ran out and
    another runner may have it, or this runner is handing it back at shutdown."""


class JobKind(Protocol):
    """A kind of job. `plan` runs where the job is submitted: it checks the parameters against
    the model and returns the job as data (with every random seed drawn, so the run is
    reproducible); `run` runs on whichever replica takes the job, from that data alone, and
    returns a JSON-able result."""

    Params: ClassVar[type[BaseModel]]

    def plan(self, model: RunningModel, params: Any) -> JobSpec: ...

    def run(self, model: RunningModel, params: Any, progress: JobProgress) -> dict[str, Any]: ...


class JobProgress:
    """What a running job's work reports through: `report(step, value)` after each step,
    `check()` between steps; both raise once the job must stop."""

    def __init__(self, report: Any) -> None:
        self._report = report  # (step, value) -> Lease, the store's report for this job
        self._state: Lease = "running"

    def report(self, step: int, value: float) -> None:
        """Record progress: `step` steps done; `value` is the objective before the step."""
        self.check()
        self.hear(self._report(step, value))
        self.check()

    def check(self) -> None:
        """Raise JobCancelledError or JobLostError if the job must stop now."""
        if self._state == "cancelling":
            raise JobCancelledError
        if self._state == "lost":
            raise JobLostError

    def hear(self, state: Lease) -> None:
        """What the store says of the job (from a report or the runner's heartbeat)."""
        if state != "running" and self._state == "running":
            self._state = state

    def hand_back(self) -> None:
        """Stop at the next check: this runner is shutting down and hands the job back."""
        self.hear("lost")

    @property
    def state(self) -> Lease:
        return self._state
