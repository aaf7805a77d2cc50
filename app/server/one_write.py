"""A response's head and body in one send: uvicorn writes the status line and headers, then
the body, as two writes on the socket, so every small answer costs two system calls and two
TCP segments, each waking the client. `HeldWrites` wraps a connection's transport for one
request: a write waits until the next write, the end of the response, or the end of the
event loop's current step, whichever comes first, and leaves joined with it."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


class HeldWrites:
    """The transport of one request's response cycle (what uvicorn's cycle calls on it)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self.held is None:
            self.held = bytes(data)
            self.loop.call_soon(self.flush)  # a streamed head goes out within this step
            return
        joined, self.held = self.held + data, None
        self.transport.write(joined)

    def flush(self) -> None:
        """Send what is held (the end of the response, or of the loop's step)."""
        if self.held is not None:
            held, self.held = self.held, None
            if not self.transport.is_closing():
                self.transport.write(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def held_writes(cycle: RequestResponseCycle, loop: asyncio.AbstractEventLoop) -> None:
    """Make `cycle` write through `HeldWrites`; what is held leaves when the response ends."""
    held = HeldWrites(cycle.transport, loop)
    answered = cycle.on_response

    def on_response() -> None:
        held.flush()
        answered()

    cycle.transport = held  # type: ignore[assignment]
    cycle.on_response = on_response
