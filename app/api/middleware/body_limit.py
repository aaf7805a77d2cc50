"""Limits on a request body while it streams in: its size (with or without Content-Length)
and how long it may stall, so a stalled upload cannot hold the server."""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import APIError, error_response


class BodyError(APIError, HTTPException):  # type: ignore[misc]
    """An error raised while the body streams in. It is also an HTTPException so that FastAPI,
    which turns other errors met while parsing a body into 400, lets it through; handlers
    find APIError first in its MRO, so it keeps the one error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        APIError.__init__(self, status, code, message)
        self.status_code, self.detail = status, message


def too_large(limit: int) -> BodyError:
    return BodyError(413, "body_too_large", f"The request body is over the {limit}-byte limit.")


def too_slow(seconds: float) -> BodyError:
    return BodyError(
        408,
        "upload_timeout",
        f"The request body stalled for {seconds:g} s (LANTERN_UPLOAD_TIMEOUT_SECONDS).",
    )


class BodyLimitMiddleware:
    """Pure ASGI middleware: a declared length over the limit is refused before any byte is
    read; otherwise the bytes are counted as they arrive and reading past the limit raises a
    413 inside the handler that reads the body. Waiting over `timeout` seconds for the next
    part of an incomplete body raises a 408 there: a slow but steady upload goes on, a stalled
    one ends. Once the body is complete, `receive` waits for the client's disconnect as usual,
    with no time limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            error = too_large(self.max_bytes)
            answer = error_response(scope["path"], error.status, error.code, error.message)
            await answer(scope, receive, send)
            return
        received, complete = 0, False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout(self.timeout):
                    message = await receive()
            except TimeoutError:
                raise too_slow(self.timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


def _declared_length(scope: Scope) -> int:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
