"""Inference routes that hand a plain request its arguments without FastAPI's solving.

FastAPI solves a route's dependencies and validates its parameters on every request: for
/predict that is most of a tenth of the server's CPU per digit. A route made with
`quick_route(arguments)` first asks `arguments(request)` for the endpoint's keyword
arguments; it answers them for the usual request (plain numbers, no unusual values) and
None for anything else, and then FastAPI solves the request as it always does, so every
error keeps FastAPI's status and words. The route's declared parameters stay what OpenAPI
describes; tests/api/test_quick.py checks that both ways give the same arguments."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

QuickArguments = Callable[[Request], "dict[str, Any] | None"]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def quick_route(arguments: QuickArguments, base: type[APIRoute] = APIRoute) -> type[APIRoute]:
    """A route class (on `base`) whose endpoint takes `arguments(request)` when they are
    not None, else what FastAPI solves; always FastAPI's when dependencies are overridden."""

    class QuickRoute(base):  # type: ignore[valid-type,misc]
        def get_route_handler(self) -> Handler:
            solved = super().get_route_handler()
            endpoint = self.endpoint
            if not inspect.iscoroutinefunction(endpoint):
                raise TypeError(f"a quick route's endpoint is async: {endpoint.__name__}")

            async def quick_handler(request: Request) -> Response:
                values = None if request.app.dependency_overrides else arguments(request)
                if values is None:
                    return await solved(request)
                return await endpoint(**values)

            return quick_handler

    QuickRoute.__name__ = QuickRoute.__qualname__ = f"Quick{base.__name__}"
    return QuickRoute


def plain_int(text: str | None, most: int | None = None) -> int | None:
    """`text` as a number from 1 to `most` when it is written plainly (ASCII digits, no
    sign, no leading zero, at most 18 of them), else None: FastAPI decides the rest."""
    if text is None or not (0 < len(text) <= 18 and text.isascii() and text.isdecimal()):
        return None
    if text[0] == "0":
        return None
    number = int(text)
    return number if most is None or number <= most else None
