"""What a connection admitted past the connection limit may do: reach the probes (so that an
orchestrator still sees the server live while it is full), and nothing else."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response

PROBE_PATHS = frozenset({"/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready"})


class ProbesOnly:
    """Pure ASGI: the probes are served as usual, any other path gets 503
    `too_many_connections` with Retry-After; either way the connection closes after it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        if scope["type"] == "http" and scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, closing_send)
            return
        message = "The server has too many connections open. Retry shortly."
        answer = error_response(scope["path"], 503, "too_many_connections", message)
        answer.headers["Retry-After"] = "1"
        await answer(scope, receive, closing_send)
