"""The records every job store keeps and answers with: what a job is (`JobSpec`), what it is
doing (`JobSnapshot`), what a runner took (`Claim`) and how it ended (`Outcome`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["queued", "running", "done", "cancelled", "failed"]
FINISHED: frozenset[str] = frozenset({"done", "cancelled", "failed"})
# What a runner hears back when it reports progress or renews its lease.
Lease = Literal["running", "cancelling", "lost"]
DEFAULT_RETRY_AFTER = 5  # seconds, when no running job has progress to extrapolate from
HISTORY_ENTRY_BYTES = 8  # a float of the objective history, counted against the byte cap


@dataclass(frozen=True)
class JobLimits:
    """Bounds of a job store. `max_running` is per runner (per replica); the queue holds at
    most `max_queued` jobs beyond what the live runners can run at once. Finished jobs are
    forgotten `ttl` seconds after they finish, and the oldest go first once more than
    `max_finished` of them, or more than `max_finished_bytes` of results and specs, are kept
    (the newest is always kept). A running job's runner renews its lease every `lease / 3`
    seconds; a job whose lease runs out is re-queued at most `retries` times, then marked
    failed."""

    max_running: int = 2
    max_queued: int = 8
    ttl: float = 600.0
    lease: float = 15.0
    retries: int = 1
    max_finished: int = 256
    max_finished_bytes: int = 64 * 1024 * 1024


class JobSpec(BaseModel):
    """What a job is, as data: the kind (a key of the job kinds' registry), the model it runs
    on, the kind's parameters as JSON, its step count, and a description for snapshots. Any
    replica rebuilds the job's work from this alone, so results are reproducible."""

    model_config = ConfigDict(frozen=True)

    kind: str
    model: str
    version: int
    parameters: dict[str, Any]
    steps: int = Field(ge=1)
    objective: dict[str, Any] = Field(default_factory=dict)


class JobSnapshot(BaseModel):
    """A job as GET /jobs/{id} reports it."""

    id: str
    kind: str = Field(description="what the job does, e.g. activation_maximisation")
    status: Status = Field(description="queued, running, done, cancelled or failed")
    step: int = Field(description="steps done")
    steps: int
    objective: dict[str, Any] = Field(description="what the job optimises, and its parameters")
    history: list[float] = Field(description="the objective before each step")
    result: dict[str, Any] | None = Field(description="once done: the job's result")
    error: str | None = Field(default=None, description="once failed: why")
    attempts: int = Field(default=0, description="times a runner started it")
    runner: str | None = Field(default=None, description="the replica running or last running it")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class Claim:
    """A queued job a runner has taken: it now holds the job's lease."""

    id: str
    spec: JobSpec
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """How a run ended: done with a result, cancelled, or failed with a reason."""

    status: Literal["done", "cancelled", "failed"]
    result: dict[str, Any] | None = None
    error: str | None = None


def result_json(result: dict[str, Any] | None) -> str:
    """A result as the stores keep it (and count it against the byte cap)."""
    return "" if result is None else json.dumps(result, separators=(",", ":"))


def stored_bytes(result: str, error: str | None, history: int, spec: str = "") -> int:
    """What a finished job counts against `max_finished_bytes`: its result, error, history
    and its spec as JSON (an evaluation's spec carries its images)."""
    return len(result) + len(error or "") + HISTORY_ENTRY_BYTES * history + len(spec)


def retry_after(now: float, running: list[tuple[float, int, int]]) -> int:
    """Seconds until the first running job should finish, from (started, step, steps) of each
    running job and its pace so far."""
    estimates = [
        (now - started) / step * (steps - step) for started, step, steps in running if step > 0
    ]
    return max(1, math.ceil(min(estimates))) if estimates else DEFAULT_RETRY_AFTER


def lost_message(runner: str, retries: int) -> str:
    """Why a job whose runner stopped renewing its lease was given up."""
    times = "once" if retries == 1 else f"{retries} times"
    again = f"it was re-queued {times} already" if retries else "retries are off"
    return f"The replica running this job ({runner}) stopped renewing its lease; {again}."
