"""The explain gate: at most a few explanations run at once, a few more wait their turn until
their deadline, and the rest are refused at once (the expensive routes' back-pressure;
predictions are bounded by their model's queue in `app.runtime.batching`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

from app.errors import BusyError, DeadlineExceededError, OverloadedError
from app.runtime.batching import BatchObserver


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
        """Hold a running place for the body of the `async with`, waiting until the monotonic
        `deadline` at most; OverloadedError at once when every place and queue place is taken."""
        if self.admitted >= self.capacity:
            message = f"{self.admitted} explanations are running or queued. Retry shortly."
            self._refuse("overloaded", OverloadedError(message, self.retry_after))
        self.admitted += 1
        try:
            try:
                async with asyncio.timeout(deadline - time.monotonic()):
                    await self._semaphore.acquire()
            except TimeoutError:
                message = "The explanation waited past its deadline. Retry shortly."
                self._refuse("deadline_exceeded", DeadlineExceededError(message, self.retry_after))
            try:
                yield
            finally:
                self._semaphore.release()
        finally:
            self.admitted -= 1

    def _refuse(self, reason: str, error: BusyError) -> NoReturn:
        if self.observer is not None:
            self.observer.rejected(reason)
        raise error
