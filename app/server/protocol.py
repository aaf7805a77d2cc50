"""uvicorn's httptools protocol with limits a hostile client cannot get around, enforced
below the app (before auth, before any header is handed over):

- the request line and headers of a request (and the trailers of a chunked body) may take at
  most `max_header_bytes`: past it, 431, counted while they stream in, so the parser never
  holds more than that and one read;
- headers must be complete within `header_timeout` of their first byte (408), and a
  connection with no request in progress is closed after `idle_timeout`;
- at most `MAX_PIPELINED` requests may wait behind the one in progress on a connection;
- the number of open connections is bounded by `Connections` (see there); a connection
  admitted past the limit reaches the probes only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.api.errors import error_response
from app.server.connections import Admission, Connections
from app.server.one_write import held_writes
from app.server.probes_only import ProbesOnly

MAX_PIPELINED = 16
CHUNK_FRAMING = 64  # bytes a chunk of a chunked body may spend on its size line and CRLFs


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout: float
    idle_timeout: float


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """One connection. Subclasses made by `protocol_class` carry the limits."""

    limits: ClassVar[ConnectionLimits]
    tracker: ClassVar[Connections]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timer: asyncio.TimerHandle | None = None
        self.refused = False
        self.message_open = False  # a request has begun and its body has not ended
        self.reading_headers = False
        self.message_serial = 0
        self.fed = self.body_bytes = self.chunks = 0  # of the open request

    # connection life
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        admission = self.tracker.admit(self)
        if admission is Admission.REFUSED:  # counted by `admit`
            message = "The server has too many connections open. Retry shortly."
            self.transport.write(raw_error(b"", 503, "too_many_connections", message))
            self.refused = True
            self.transport.close()
            return
        if admission is Admission.PROBES_ONLY:
            self.app = ProbesOnly(self.app)
        self.tracker.waiting(self)
        self._arm(self.limits.idle_timeout, self._idle_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.tracker.closed(self)
        super().connection_lost(exc)

    def evict(self) -> None:
        self._disarm()
        self.refused = True
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        serial, was_open = self.message_serial, self.message_open
        super().data_received(data)
        if self.refused or self.transport.is_closing():
            return
        if was_open and self.message_open and self.message_serial == serial:
            self.fed += len(data)
            if self.fed - self.body_bytes - CHUNK_FRAMING * self.chunks > self._header_limit:
                self._too_large()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.reading_headers and not self.transport.is_closing():
            self.tracker.waiting(self)
            self._arm(self.limits.idle_timeout, self._idle_expired)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes that are not HTTP, in the error shape (not text)."""
        if self.refused or self.transport.is_closing():
            return
        url = self.url if self.scope else b""
        self.transport.write(raw_error(url, 400, "bad_request", "The request is not valid HTTP."))
        self._close("invalid_http")

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.message_open = self.reading_headers = True
        self.message_serial += 1
        self.fed = self.body_bytes = self.chunks = 0
        self._arm(self.limits.header_timeout, self._headers_expired)

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        self.reading_headers = False
        self._disarm()
        self.tracker.working(self)
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self._header_limit:
            self._too_large()
        elif len(self.pipeline) >= MAX_PIPELINED:
            self._close("pipelined")
        else:
            super().on_headers_complete()
            if self.cycle is not None:
                held_writes(self.cycle, self.loop)

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            self.body_bytes += len(body)
            super().on_body(body)

    def on_chunk_header(self) -> None:
        self.chunks += 1

    def on_message_complete(self) -> None:
        self.message_open = False
        if not self.refused:
            super().on_message_complete()

    # limits
    @property
    def _header_limit(self) -> int:
        return self.limits.max_header_bytes

    def _too_large(self) -> None:
        limit = self._header_limit
        message = f"The request's headers are over the {limit}-byte limit."
        self._answer(431, "headers_too_large", message)

    def _headers_expired(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            # a pipelined request's headers are late while the one before it is still
            # answering: let that answer finish, then close if they are still unfinished
            self._arm(self.limits.header_timeout, self._headers_expired)
            return
        seconds = self.limits.header_timeout
        self._answer(408, "header_timeout", f"The headers took over {seconds:g} s to arrive.")

    def _idle_expired(self) -> None:
        self._close("idle_timeout")

    def _answer(self, status: int, code: str, message: str) -> None:
        """Answer `status` and close, if no response is under way; else only close."""
        if self.refused or self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(raw_error(self.url if self.scope else b"", status, code, message))
        self._close(code)

    def _close(self, reason: str) -> None:
        self.tracker.closed_by_limit(reason)
        self.refused = True
        self._disarm()
        self.transport.close()

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self.timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def raw_error(url: bytes, status: int, code: str, message: str) -> bytes:
    """A whole HTTP response in the error shape of the path (the protocol's under /v2)."""
    path = url.split(b"?", 1)[0].decode("latin-1")
    body = bytes(error_response(path, status, code, message).body)
    head = [
        STATUS_LINE[status],
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n",
    ]
    if status == 503:
        head.append(b"retry-after: 1\r\n")
    return b"".join([*head, b"\r\n", body])


def protocol_class(limits: ConnectionLimits, connections: Connections) -> type:
    """The protocol uvicorn makes each connection with, carrying these limits."""
    attributes = {"limits": limits, "tracker": connections}
    return type("LanternHttpProtocol", (LimitedHttpToolsProtocol,), attributes)
