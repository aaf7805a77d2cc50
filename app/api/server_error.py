"""Unexpected errors answered as 500 in the one error shape, inside the other middleware, so
the answer still carries the request id, the CORS headers and the metrics, and the log line
carries the request id."""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_body

log = logging.getLogger("lantern.errors")


class ServerErrorMiddleware:
    """Pure ASGI middleware, added first (innermost): turns an exception no handler took into
    a 500 `internal_error`, unless the response had already started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope.get("path", ""))
            if started:
                raise
            await _internal_error(send)


async def _internal_error(send: Send) -> None:
    body = json.dumps(error_body("internal_error", "The server failed to handle this request."))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})
