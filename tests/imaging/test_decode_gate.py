"""app/imaging/decode_gate.py: the memory of decodes at once, waiting places, refusals."""

from __future__ import annotations

import threading
import time

import pytest

from app.errors import DeadlineExceededError, OverloadedError
from app.imaging.decode_gate import DecodeGate


def hold_in_thread(gate: DecodeGate, cost: int, release: threading.Event) -> threading.Thread:
    """A decode of `cost` bytes in another thread, holding the gate until `release` is set."""
    started = threading.Event()

    def work() -> None:
        with gate.hold(cost):
            started.set()
            release.wait(10)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(5)
    return thread


def test_decodes_that_fit_together_hold_the_gate_at_once():
    gate = DecodeGate(100, max_waiting=0, timeout=1, retry_after=1)
    with gate.hold(60), gate.hold(40):
        assert gate.in_use() == 100
    assert gate.in_use() == 0


def test_a_decode_larger_than_the_gate_holds_all_of_it_alone():
    gate = DecodeGate(100, max_waiting=0, timeout=1, retry_after=1)
    with gate.hold(10**9):
        assert gate.in_use() == 100


def test_a_decode_waits_for_room_then_goes_on():
    gate = DecodeGate(100, max_waiting=1, timeout=5, retry_after=1)
    release = threading.Event()
    holder = hold_in_thread(gate, 80, release)
    threading.Timer(0.2, release.set).start()
    with gate.hold(50):  # waits until the holder is done
        assert gate.in_use() == 50
    holder.join()


def test_past_the_waiting_places_a_decode_is_refused_at_once():
    refusals: list[str] = []
    gate = DecodeGate(100, max_waiting=0, timeout=5, retry_after=3, on_refusal=refusals.append)
    release = threading.Event()
    holder = hold_in_thread(gate, 80, release)
    started = time.monotonic()
    with pytest.raises(OverloadedError) as refused, gate.hold(50):
        pass
    assert time.monotonic() - started < 1 and refused.value.retry_after == 3
    assert refusals == ["decode_overloaded"]
    release.set()
    holder.join()


def test_a_decode_that_waits_past_its_time_is_refused():
    refusals: list[str] = []
    gate = DecodeGate(100, max_waiting=1, timeout=0.2, retry_after=1, on_refusal=refusals.append)
    release = threading.Event()
    holder = hold_in_thread(gate, 80, release)
    with pytest.raises(DeadlineExceededError), gate.hold(50):
        pass
    assert refusals == ["decode_deadline"] and gate.in_use() == 80
    release.set()
    holder.join()
    assert gate.in_use() == 0
