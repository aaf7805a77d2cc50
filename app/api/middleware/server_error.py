"""Unexpected errors answered as 500 in the path's error shape (the protocol's under /v2), inside
the other middleware, so the answer still carries the request id, the CORS headers and the
metrics, and the log line carries the request id."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import INTERNAL_ERROR, error_response

log = logging.getLogger("lantern.errors")
STOPPED = "The server stopped before this request finished."


class ServerErrorMiddleware:
    """Pure ASGI middleware, added first (innermost): turns an exception no handler took into
    a 500 `internal_error`, unless the response had already started; so too a request that
    is cancelled because the shutdown grace ended (the cancellation then goes on)."""

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
            response = error_response(scope["path"], 500, "internal_error", INTERNAL_ERROR)
            await response(scope, receive, send)
        except asyncio.CancelledError:  # the shutdown grace ended with this request running
            if not started:
                log.error("cancelled at shutdown: %s %s", scope["method"], scope.get("path", ""))
                response = error_response(scope["path"], 500, "internal_error", STOPPED)
                await response(scope, receive, send)
            raise
