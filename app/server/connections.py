"""The open connections: how many there are, which of them may be closed to make room for a
new one, and what happens to a connection past the limit."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import Protocol

PROBE_RESERVE = 16  # connections past the limit that may still reach the probes


class Admission(Enum):
    SERVED = "served"  # an ordinary connection
    PROBES_ONLY = "probes_only"  # past the limit: the probes answer, other paths get 503
    REFUSED = "refused"  # past the limit and the reserve: closed at once


class Evictable(Protocol):
    def evict(self) -> None:
        """Close this connection to make room (it is idle or still sending its headers)."""


class Connections:
    """At most `limit` connections are served and `PROBE_RESERVE` more may reach the probes.
    A new connection past the limit first closes the connection that has been idle, or
    sending its headers, for longest: a request in progress is never closed to make room.
    `on_close(reason)` hears every connection closed or refused by a limit."""

    def __init__(self, limit: int, on_close: Callable[[str], None] | None = None) -> None:
        self.limit = limit
        self.on_close = on_close
        self._open: set[object] = set()
        self._evictable: OrderedDict[Evictable, None] = OrderedDict()

    def count(self) -> int:
        return len(self._open)

    def admit(self, connection: Evictable) -> Admission:
        """Count a new connection in, closing the longest-waiting evictable one if full."""
        if len(self._open) >= self.limit and self._evictable:
            oldest, _ = self._evictable.popitem(last=False)
            self._open.discard(oldest)
            self.closed_by_limit("evicted")
            oldest.evict()
        if len(self._open) >= self.limit + PROBE_RESERVE:
            self.closed_by_limit("refused")
            return Admission.REFUSED
        self._open.add(connection)
        return Admission.SERVED if len(self._open) <= self.limit else Admission.PROBES_ONLY

    def waiting(self, connection: Evictable) -> None:
        """The connection is idle or sending headers: it may be closed to make room."""
        if connection in self._open:
            self._evictable.pop(connection, None)
            self._evictable[connection] = None

    def working(self, connection: Evictable) -> None:
        """The connection has a request in progress: it stays."""
        self._evictable.pop(connection, None)

    def closed(self, connection: Evictable) -> None:
        self._open.discard(connection)
        self._evictable.pop(connection, None)

    def closed_by_limit(self, reason: str) -> None:
        if self.on_close is not None:
            self.on_close(reason)
