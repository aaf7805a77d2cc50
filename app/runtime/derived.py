"""The one cache of sessions derived from a model: explain graphs per layer set, forward runs
with extra outputs (taps), activation-maximisation objectives, and what building a graph
found (the propagation rules a model refuses). Each is built once, on first use, under a
lock per key (two requests for the same new session build it once); the least
recently used is dropped past `capacity`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

Built = TypeVar("Built")
DEFAULT_CAPACITY = 16


class DerivedSessions:
    """Least-recently-used sessions of one model, keyed by what they were derived for."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, build: Callable[[], Built]) -> Built:
        """The session cached under `key`, built by `build()` if absent."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            built = build()
            with self._lock:
                self._entries[key] = built
                self._building.pop(key, None)
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
            return built

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Hashable]:
        """The keys cached now, least recently used first."""
        with self._lock:
            return iter(list(self._entries))
