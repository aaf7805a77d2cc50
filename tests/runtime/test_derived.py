"""The one cache of derived sessions: built once per key, least recently used dropped."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from app.runtime.derived import DerivedSessions


def test_a_key_is_built_once_and_then_served_from_the_cache():
    cache, builds = DerivedSessions(), []
    first = cache.get("a", lambda: builds.append("a") or object())
    assert cache.get("a", lambda: builds.append("again") or object()) is first
    assert builds == ["a"]


def test_past_its_capacity_the_least_recently_used_session_is_dropped():
    cache = DerivedSessions(capacity=2)
    for key in ("a", "b"):
        cache.get(key, object)
    cache.get("a", object)  # a is now the most recently used
    cache.get("c", object)
    assert list(cache) == ["a", "c"]


def test_two_requests_for_the_same_new_session_build_it_once():
    cache, builds = DerivedSessions(), []

    def slow_build() -> object:
        builds.append(threading.get_ident())
        time.sleep(0.05)
        return object()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: cache.get("k", slow_build), range(4)))
    assert len(builds) == 1 and all(result is results[0] for result in results)


def test_different_keys_build_side_by_side():
    cache, started = DerivedSessions(), threading.Barrier(2, timeout=5)

    def build() -> object:
        started.wait()  # both builds must be running at once to pass the barrier
        return object()

    with ThreadPoolExecutor(2) as pool:
        assert len(set(map(id, pool.map(lambda k: cache.get(k, build), ["x", "y"])))) == 2
