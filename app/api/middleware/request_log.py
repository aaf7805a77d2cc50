"""Request ids and the access log: one JSON line per request, the id echoed in X-Request-ID."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logging_setup import REQUEST_ID, request_id_from

log = logging.getLogger("lantern.access")
QUIET_PREFIXES = ("/health/", "/v2/health/", "/metrics")


class RequestLogMiddleware:
    """Pure ASGI middleware: sets the request id for every log record made while serving the
    request, adds it to the response headers and logs the request when it ends (probes and
    scrapes at debug level, the rest at info)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _log_access(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    path = scope.get("path", "")
    level = logging.DEBUG if path.startswith(QUIET_PREFIXES) and status < 400 else logging.INFO
    if not log.isEnabledFor(level):
        return
    fields = {
        "method": scope["method"],
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
    }
    log.log(level, "%s %s %d", fields["method"], path, status, extra=fields)
