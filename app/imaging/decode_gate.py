"""The decode gate: a bound on the memory of the images being decoded at once, across every
request and worker thread, so that a burst of large uploads cannot take more than that.

Each decode states its cost (the bytes its pixels take at their peak, estimated from the
header before any pixel is decoded) and waits until the gate has room for it. A few decodes
may wait; past them, or past the wait's time limit, the request is refused with a 503 its
client may retry. Waiting happens in the worker thread that decodes, so the waiting places
are few: a worker pool blocked on the gate would starve every other request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from app.errors import DeadlineExceededError, OverloadedError


class DecodeGate:
    """At most `capacity` bytes of pixels decoded at once; at most `max_waiting` decodes wait
    for room, each for `timeout` seconds at most. `on_refusal(reason)` hears every refusal."""

    def __init__(
        self,
        capacity: int,
        max_waiting: int,
        timeout: float,
        retry_after: int,
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        self.capacity = capacity
        self.max_waiting = max_waiting
        self.timeout = timeout
        self.retry_after = retry_after
        self.on_refusal = on_refusal
        self.used = 0
        self.waiting = 0
        self._room = threading.Condition()

    @contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        """Hold `cost` bytes (at most the whole gate) for the body of the `with`."""
        cost = max(0, min(cost, self.capacity))
        with self._room:
            if self.used + cost > self.capacity:
                self._wait_for_room(cost)
            self.used += cost
        try:
            yield
        finally:
            with self._room:
                self.used -= cost
                self._room.notify_all()

    def in_use(self) -> int:
        return self.used

    def _wait_for_room(self, cost: int) -> None:
        if self.waiting >= self.max_waiting:
            self._refuse("decode_overloaded")
            raise OverloadedError(
                "Too many large images are being decoded. Retry shortly.", self.retry_after
            )
        self.waiting += 1
        try:
            fits = self._room.wait_for(lambda: self.used + cost <= self.capacity, self.timeout)
        finally:
            self.waiting -= 1
        if not fits:
            self._refuse("decode_deadline")
            raise DeadlineExceededError(
                "The image waited too long to be decoded. Retry shortly.", self.retry_after
            )

    def _refuse(self, reason: str) -> None:
        if self.on_refusal is not None:
            self.on_refusal(reason)
