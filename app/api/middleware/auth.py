"""Optional API keys: with `api_keys` set, every API route needs `Authorization: Bearer <key>`.

Open without a key: the probes (/health/*, /v2/health/*), /metrics, the browser UI's pages and
static files, and the OpenAPI docs (the UI asks for the key and sends it on its API calls).
CORS preflights never reach this middleware (CORSMiddleware sits outside it)."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response

PUBLIC_PATHS = frozenset({"/", "/metrics", "/docs", "/redoc", "/openapi.json", "/favicon.ico"})
PUBLIC_PREFIXES = ("/health/", "/v2/health/", "/static/", "/ui/", "/docs/")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def bearer_token(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


def key_matches(token: str, keys: tuple[bytes, ...]) -> bool:
    """Compare against every key in constant time (no early exit on the first match)."""
    candidate = token.encode("utf-8", "replace")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(candidate, key)
    return matched


class APIKeyMiddleware:
    """Pure ASGI middleware: 401 with `WWW-Authenticate: Bearer` unless the key is right."""

    def __init__(self, app: ASGIApp, keys: tuple[str, ...]) -> None:
        self.app = app
        self.keys = tuple(key.encode() for key in keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.keys
            or is_public(scope["path"])
            or key_matches(bearer_token(scope) or "", self.keys)
        ):
            await self.app(scope, receive, send)
            return
        await _send_401(scope, receive, send, bearer_token(scope) is not None)


async def _send_401(scope: Scope, receive: Receive, send: Send, had_token: bool) -> None:
    message = "The API key is not valid." if had_token else "Send 'Authorization: Bearer <key>'."
    challenge = 'Bearer realm="lantern"' + (', error="invalid_token"' if had_token else "")
    answer = error_response(
        scope["path"], 401, "unauthorized", message, {"WWW-Authenticate": challenge}
    )
    await answer(scope, receive, send)
