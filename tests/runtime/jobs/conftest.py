"""Every job-store test runs against both stores: in memory, and in a real redis-server. Time is
a clock the test moves (the stores read it for leases, expiry and Retry-After)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from app.runtime.jobs import JobLimits, JobSpec, JobStore, MemoryJobStore
from app.runtime.jobs.redis_store import RedisJobStore

BACKENDS = ("memory", "redis")
MakeStore = Callable[..., JobStore]


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, clock: Clock) -> Iterator[MakeStore]:
    """make_store(**limits): a fresh store of this test's backend (its own Redis key prefix),
    on the test's clock, or on the wall clock with `real_time=True`."""
    stores: list[JobStore] = []

    def make(real_time: bool = False, **limits: float) -> JobStore:
        bounds = JobLimits(**limits)  # type: ignore[arg-type]
        now = time.time if real_time else clock
        if request.param == "memory":
            store: JobStore = MemoryJobStore(bounds, now)
        else:
            url = request.getfixturevalue("redis_url")
            client = redis.Redis.from_url(url, decode_responses=True)
            store = RedisJobStore(client, bounds, f"test:{uuid.uuid4().hex}", now)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def spec(steps: int = 10, kind: str = "test", **parameters: object) -> JobSpec:
    return JobSpec(kind=kind, model="tiny_digits", version=1, parameters=parameters, steps=steps)
