"""Limits on a request body while it streams in: its size (with or without Content-Length),
how long it may stall, and the receiving budget shared by every body held at once, so that
neither a stalled upload nor many large ones can hold the server."""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import APIError, api_error_response
from app.runtime.receiving import ReceivingBudget


class BodyError(APIError, HTTPException):  # type: ignore[misc]
    """An error raised while the body streams in. It is also an HTTPException so that FastAPI,
    which turns other errors met while parsing a body into 400, lets it through; handlers
    find APIError first in its MRO, so it keeps the one error shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        APIError.__init__(self, status, code, message, headers)
        self.status_code, self.detail = status, message


def too_large(limit: int) -> BodyError:
    return BodyError(413, "body_too_large", f"The request body is over the {limit}-byte limit.")


def over_budget(retry_after: int) -> BodyError:
    message = "The server is receiving too many large bodies at once. Retry shortly."
    headers = {"Retry-After": str(retry_after), "Connection": "close"}
    return BodyError(503, "overloaded", message, headers)


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
    with no time limit. Every byte received is held against the receiving `budget` until the
    request ends; a body that does not fit gets 503 `overloaded` (a declared one before any
    byte is read)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        timeout: float,
        budget: ReceivingBudget,
        retry_after: int,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.budget = budget
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal_before_reading(_declared_length(scope))
        if refusal is not None:
            await api_error_response(scope["path"], refusal)(scope, receive, send)
            return
        received, complete = 0, False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            message = await self._next_part(receive)
            if message["type"] == "http.request":
                size = len(message.get("body", b""))
                if not self.budget.take(received, size):
                    raise over_budget(self.retry_after)
                received += size
                complete = not message.get("more_body", False)
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send)
        finally:
            self.budget.give_back(received)

    def _refusal_before_reading(self, declared: int) -> BodyError | None:
        if declared > self.max_bytes:
            return too_large(self.max_bytes)
        if not self.budget.would_fit(declared):
            return over_budget(self.retry_after)
        return None

    async def _next_part(self, receive: Receive) -> Message:
        try:
            async with asyncio.timeout(self.timeout):
                return await receive()
        except TimeoutError:
            raise too_slow(self.timeout) from None


def _declared_length(scope: Scope) -> int:
    """The Content-Length (0 if none; the HTTP parser has refused one that is not a number)."""
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            digits = value.strip()
            if not digits.isdigit():
                return 0
            return int(digits) if len(digits) <= 18 else 2**62
    return 0
