"""Back-pressure for the expensive routes: a small gate for /explain/* (a few run, a few wait,
the rest get 503 at once) and the per-request deadline. Predictions are bounded by their
model's queue in `app.store.batching`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Request

from app.config import Settings
from app.store.batching import BatchLimits, BatchObserver, unavailable


def batch_limits(settings: Settings) -> BatchLimits:
    return BatchLimits(
        max_batch=settings.max_batch,
        max_delay=settings.max_batch_delay_ms / 1000,
        queue_size=settings.queue_size,
        retry_after=settings.retry_after_seconds,
    )


def request_deadline(settings: Settings) -> float:
    """The monotonic time by which a request must have left the queue."""
    return time.monotonic() + settings.request_timeout_seconds


class ExplainGate:
    """At most `concurrency` explanations run at once and `queue_size` more wait their turn."""

    def __init__(
        self,
        concurrency: int,
        queue_size: int,
        retry_after: int,
        observer: BatchObserver | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue_size
        self.retry_after = retry_after
        self.observer = observer
        self.admitted = 0
        self._semaphore = asyncio.Semaphore(concurrency)

    @asynccontextmanager
    async def slot(self, deadline: float) -> AsyncIterator[None]:
        if self.admitted >= self.capacity:
            self._reject("overloaded", f"{self.admitted} explanations are running or queued.")
        self.admitted += 1
        try:
            try:
                async with asyncio.timeout(deadline - time.monotonic()):
                    await self._semaphore.acquire()
            except TimeoutError:
                self._reject("deadline_exceeded", "The explanation waited past its deadline.")
            try:
                yield
            finally:
                self._semaphore.release()
        finally:
            self.admitted -= 1

    def _reject(self, code: str, message: str) -> None:
        if self.observer is not None:
            self.observer.rejected(code)
        raise unavailable(code, f"{message} Retry shortly.", self.retry_after)


def explain_slot(request: Request) -> AbstractAsyncContextManager[None]:
    """`async with explain_slot(request):` around the expensive part of an explanation."""
    state = request.app.state
    return state.explain_gate.slot(request_deadline(state.settings))
