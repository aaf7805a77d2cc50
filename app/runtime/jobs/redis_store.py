"""The shared job store: jobs in Redis (LANTERN_REDIS_URL), so that any replica takes a queued
job and any replica answers for any job. Every state change is one Lua script
(`redis_scripts`); times are the replicas' wall clocks, so they should agree to well within a
lease (NTP does). Idle runners block on a wake list, so a queued job starts on some replica at
once; a runner that misses the wake-up finds the job at its next poll."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

from app.errors import JobNotFoundError, JobStoreUnavailableError, TooManyJobsError
from app.runtime.jobs.records import (
    Claim,
    JobLimits,
    JobSnapshot,
    JobSpec,
    Lease,
    Outcome,
    lost_message,
    result_json,
    retry_after,
)
from app.runtime.jobs.redis_scripts import PRELUDE, SCRIPTS

log = logging.getLogger("lantern.jobs")

WAIT_POLL_SECONDS = 0.02  # how often `wait` looks at a job another replica runs
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


class RedisJobStore:
    """Jobs kept in Redis under `prefix`; see the module docstring."""

    def __init__(
        self,
        client: redis.Redis,
        limits: JobLimits,
        prefix: str = "lantern:jobs",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits, self.prefix, self.clock = limits, prefix, clock
        self._client = client
        self._scripts = {
            name: client.register_script(PRELUDE + body) for name, body in SCRIPTS.items()
        }

    @classmethod
    def from_url(cls, url: str, limits: JobLimits, prefix: str) -> RedisJobStore:
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=3
        )
        return cls(client, limits, prefix)

    def submit(self, spec: JobSpec) -> JobSnapshot:
        job_id = _new_id()
        limits = self.limits
        accepted = self._call(
            "submit",
            job_id,
            spec.model_dump_json(),
            spec.steps,
            limits.max_running,
            limits.max_queued,
        )
        if not accepted:
            message = "Too many jobs are running or queued; retry later."
            raise TooManyJobsError(message, self._retry_after())
        return self.get(job_id)

    def get(self, job_id: str) -> JobSnapshot:
        key = self._key(job_id)
        try:
            pipeline = self._client.pipeline(transaction=False)
            pipeline.hgetall(key)
            pipeline.lrange(key + ":history", 0, -1)
            fields, history = pipeline.execute()
        except UNREACHABLE as error:
            raise _unavailable(error) from error
        finished = fields.get("finished")
        if not fields or (finished and self.clock() - float(finished) > self.limits.ttl):
            raise JobNotFoundError(f"No job '{job_id}' (unknown or expired).")
        return _snapshot(job_id, fields, history)

    def cancel(self, job_id: str) -> JobSnapshot:
        if self._call("cancel", job_id) is None:
            raise JobNotFoundError(f"No job '{job_id}' (unknown or expired).")
        return self.get(job_id)

    def wait(self, job_id: str, timeout: float) -> JobSnapshot:
        deadline = time.monotonic() + timeout
        snapshot = self.get(job_id)
        while not snapshot.finished and time.monotonic() < deadline:
            time.sleep(WAIT_POLL_SECONDS)
            snapshot = self.get(job_id)
        return snapshot

    def claim(self, runner: str, timeout: float) -> Claim | None:
        deadline = time.monotonic() + timeout
        while True:
            found = self._call("claim", runner, self.limits.lease)
            if found:
                job_id, spec, attempt = found
                return Claim(job_id, JobSpec.model_validate_json(spec), int(attempt))
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._client.blpop([self.prefix + ":wake"], timeout=max(0.01, left))

    def report(self, job_id: str, runner: str, step: int, value: float) -> Lease:
        try:
            return self._call("report", job_id, runner, step, repr(float(value)), self.limits.lease)
        except JobStoreUnavailableError:  # the job goes on; the heartbeat keeps trying
            log.warning("job %s: progress not recorded, the job store is unreachable", job_id)
            return "running"

    def heartbeat(self, runner: str, running: list[str]) -> dict[str, Lease]:
        limits = self.limits
        message = lost_message("{runner}", limits.retries)
        states = self._call("heartbeat", runner, limits.lease, limits.retries, message, *running)
        return dict(zip(running, states, strict=True))

    def finish(self, job_id: str, runner: str, outcome: Outcome) -> bool:
        result = result_json(outcome.result)
        return bool(
            self._call("finish", job_id, runner, outcome.status, result, outcome.error or "")
        )

    def release(self, job_id: str, runner: str) -> None:
        self._call("release", job_id, runner)

    def leave(self, runner: str) -> None:
        self._client.zrem(self.prefix + ":runners", runner)

    def close(self) -> None:
        self._client.close()

    def _key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def _call(self, script: str, *args: Any) -> Any:
        limits = self.limits
        common: list[Any] = [self.prefix, repr(self.clock()), limits.max_finished]
        common += [limits.max_finished_bytes, limits.ttl, *args]
        try:
            return self._scripts[script](keys=[], args=common)
        except UNREACHABLE as error:
            raise _unavailable(error) from error

    def _retry_after(self) -> int:
        ids: list[str] = self._client.zrange(self.prefix + ":leases", 0, -1)  # type: ignore[assignment]
        pipeline = self._client.pipeline(transaction=False)
        for job_id in ids:
            pipeline.hmget(self._key(job_id), ["started", "step", "steps"])
        running = [
            (float(started), int(step), int(steps))
            for started, step, steps in pipeline.execute()
            if started is not None and step is not None and steps is not None
        ]
        return retry_after(self.clock(), running)


def _new_id() -> str:
    return uuid.uuid4().hex


def _unavailable(error: Exception) -> JobStoreUnavailableError:
    return JobStoreUnavailableError(f"The job store (Redis) is unreachable: {error}", 2)


def _snapshot(job_id: str, fields: dict[str, str], history: list[str]) -> JobSnapshot:
    spec = JobSpec.model_validate_json(fields["spec"])
    return JobSnapshot(
        id=job_id,
        kind=spec.kind,
        status=fields["status"],  # type: ignore[arg-type]
        step=int(fields.get("step", 0)),
        steps=spec.steps,
        objective=spec.objective,
        history=[float(value) for value in history],
        result=json.loads(fields["result"]) if fields.get("result") else None,
        error=fields.get("error") or None,
        attempts=int(fields.get("attempts", 0)),
        runner=fields.get("runner") or None,
    )
