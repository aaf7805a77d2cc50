"""The receiving budget: a bound on the bytes of request bodies held in memory at once, across
every connection, from their first byte until their request ends, so that many slow or
large uploads together cannot take more than that.

A body that does not fit is refused (503 with Retry-After), its bytes given back. Bodies of
at most `SMALL_BODY` bytes may use the whole budget; larger ones all but `reserve`, so that
large uploads filling the budget still leave room for ordinary requests (a digit, a photo)."""

from __future__ import annotations

import threading
from collections.abc import Callable

SMALL_BODY = 1024 * 1024


class ReceivingBudget:
    """At most `capacity` body bytes held at once; `reserve` of them for small bodies."""

    def __init__(
        self, capacity: int, reserve: int, on_refusal: Callable[[str], None] | None = None
    ) -> None:
        self.capacity = capacity
        self.reserve = min(reserve, capacity)
        self.on_refusal = on_refusal
        self.held = 0
        self._lock = threading.Lock()

    def would_fit(self, size: int) -> bool:
        """Whether a body of `size` bytes would fit now (for a declared Content-Length)."""
        return self.held + size <= self._limit_for(size)

    def take(self, holding: int, more: int) -> bool:
        """A body holding `holding` bytes receives `more`: hold them if they fit (True),
        else refuse (False; the caller gives back what the body holds)."""
        with self._lock:
            if self.held + more > self._limit_for(holding + more):
                fits = False
            else:
                self.held += more
                fits = True
        if not fits and self.on_refusal is not None:
            self.on_refusal("receiving_budget")
        return fits

    def give_back(self, size: int) -> None:
        with self._lock:
            self.held -= size

    def in_use(self) -> int:
        return self.held

    def _limit_for(self, body_size: int) -> int:
        return self.capacity if body_size <= SMALL_BODY else self.capacity - self.reserve
