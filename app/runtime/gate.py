"""The explain gate: at most a few explanations run at once, a few more wait their turn until
their deadline, and the rest are refused at once (the expensive routes' back-pressure;
predictions are bounded by their model's queue in `app.runtime.batching`).

A place is taken by a group: when one frees, the oldest waiting explanation gets it, and
every other waiting one with the same batch key (same model, method and parameters) joins
it, up to `MAX_GROUP`. The members run together and share their explain-graph runs
(`app.runtime.explain_batching`); an explanation without a key runs alone."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import NoReturn

from app.errors import BusyError, DeadlineExceededError, OverloadedError
from app.runtime.batching import BatchObserver
from app.runtime.explain_batching import ExplainGroup

MAX_GROUP = 8  # explanations admitted together


@dataclass(eq=False)
class _Waiter:
    key: Hashable | None
    future: asyncio.Future[ExplainGroup]


class ExplainGate:
    """At most `concurrency` groups of explanations run at once and `queue_size` more
    explanations wait their turn."""

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
        self.running = 0  # groups holding a place
        self._holders: dict[ExplainGroup, int] = {}
        self._waiting: deque[_Waiter] = deque()

    @asynccontextmanager
    async def slot(
        self, deadline: float, key: Hashable | None = None
    ) -> AsyncIterator[ExplainGroup]:
        """Hold a running place for the body of the `async with`, waiting until the monotonic
        `deadline` at most; OverloadedError at once when every place and queue place is taken.
        Yields the group this explanation runs in."""
        if self.admitted >= self.capacity:
            message = f"{self.admitted} explanations are running or queued. Retry shortly."
            self._refuse("overloaded", OverloadedError(message, self.retry_after))
        self.admitted += 1
        try:
            group = await self._enter(key, deadline)
            try:
                yield group
            finally:
                self._release(group)
        finally:
            self.admitted -= 1

    async def _enter(self, key: Hashable | None, deadline: float) -> ExplainGroup:
        if self.running < self.concurrency and not self._waiting:
            return self._start([])
        waiter = _Waiter(key, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                return await asyncio.shield(waiter.future)
        except TimeoutError:
            self._give_back(waiter)
            message = "The explanation waited past its deadline. Retry shortly."
            self._refuse("deadline_exceeded", DeadlineExceededError(message, self.retry_after))
        except BaseException:
            self._give_back(waiter)
            raise
        finally:
            if waiter in self._waiting:
                self._waiting.remove(waiter)

    def _give_back(self, waiter: _Waiter) -> None:
        """A waiter that leaves: if a group was formed with it meanwhile, it was never there."""
        if waiter.future.done() and not waiter.future.cancelled():
            group = waiter.future.result()
            group.leave()
            self._release(group)
        else:
            waiter.future.cancel()

    def _start(self, waiters: list[_Waiter]) -> ExplainGroup:
        group = ExplainGroup(max(1, len(waiters)))
        self._holders[group] = group.members
        self.running += 1
        for waiter in waiters:
            waiter.future.set_result(group)
        return group

    def _release(self, group: ExplainGroup) -> None:
        self._holders[group] -= 1
        if self._holders[group] > 0:
            return
        del self._holders[group]
        self.running -= 1
        while self.running < self.concurrency and self._waiting:
            self._start(self._next_members())

    def _next_members(self) -> list[_Waiter]:
        """The oldest waiter and the waiters with its key, up to MAX_GROUP."""
        first = self._waiting.popleft()
        members = [first]
        if first.key is not None:
            for waiter in list(self._waiting):
                if waiter.key == first.key and len(members) < MAX_GROUP:
                    self._waiting.remove(waiter)
                    members.append(waiter)
        return members

    def _refuse(self, reason: str, error: BusyError) -> NoReturn:
        if self.observer is not None:
            self.observer.rejected(reason)
        raise error
