"""Refuse request bodies over the limit while they stream in, with or without Content-Length."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import APIError, error_body


class BodyTooLargeError(APIError, HTTPException):  # type: ignore[misc]
    """413 raised while the body streams in. It is also an HTTPException so that FastAPI,
    which turns other errors met while parsing a body into 400, lets it through; handlers
    find APIError first in its MRO, so it keeps the one error shape."""

    def __init__(self, limit: int) -> None:
        message = f"The request body is over the {limit}-byte limit."
        APIError.__init__(self, 413, "body_too_large", message)
        self.status_code, self.detail = 413, message


def _too_large(limit: int) -> APIError:
    return BodyTooLargeError(limit)


class BodyLimitMiddleware:
    """Pure ASGI middleware: a declared length over the limit is refused before any byte is
    read; otherwise the bytes are counted as they arrive and reading past the limit raises a
    413 `APIError` inside the handler that reads the body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await _send_413(send, self.max_bytes)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _too_large(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def _declared_length(scope: Scope) -> int:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _send_413(send: Send, limit: int) -> None:
    error = _too_large(limit)
    body = json.dumps(error_body(error.code, error.message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
