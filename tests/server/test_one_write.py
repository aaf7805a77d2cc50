"""app/server/one_write.py: a response's head and body leave in one write, and nothing held
outlives the response, the loop's step or the connection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from app.server.one_write import HeldWrites, held_writes


@dataclass
class FakeTransport:
    writes: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> Any:
        return f"extra {name}"


def test_a_head_and_its_body_leave_in_one_write():
    async def answer() -> FakeTransport:
        transport = FakeTransport()
        held = HeldWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert transport.writes == []
        held.write(b"body")
        return transport

    assert asyncio.run(answer()).writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_a_write_with_nothing_after_it_leaves_at_the_end_of_the_loops_step():
    async def streamed_head() -> FakeTransport:
        transport = FakeTransport()
        held = HeldWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.write(b"head")
        await asyncio.sleep(0)
        assert transport.writes == [b"head"]
        held.write(b"chunk")  # the next one is held in turn
        await asyncio.sleep(0)
        return transport

    assert asyncio.run(streamed_head()).writes == [b"head", b"chunk"]


def test_closing_sends_what_is_held_first_and_other_calls_reach_the_transport():
    async def close() -> tuple[FakeTransport, Any]:
        transport = FakeTransport()
        held = HeldWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.write(b"last words")
        held.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing more to send
        return transport, held.get_extra_info("peername")

    transport, extra = asyncio.run(close())
    assert transport.writes == [b"last words"] and transport.closed
    assert extra == "extra peername"


class FakeCycle:
    def __init__(self, transport: FakeTransport) -> None:
        self.transport: Any = transport
        self.completed = 0

    def on_response(self) -> None:
        self.completed += 1
        assert isinstance(self.transport, HeldWrites)
        assert self.transport.transport.writes == [b"HEAD answer"]  # sent before completion


def test_the_end_of_a_response_sends_what_is_held_before_the_protocol_hears_of_it():
    async def head_request() -> FakeCycle:
        cycle = FakeCycle(FakeTransport())
        held_writes(cycle, asyncio.get_running_loop())  # type: ignore[arg-type]
        cycle.transport.write(b"HEAD answer")  # a HEAD response: a head, no body
        cycle.on_response()
        return cycle

    assert asyncio.run(head_request()).completed == 1
