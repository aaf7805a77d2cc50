"""The error answers: Lantern's shape {"error": {"code": ..., "message": ...}} for every 4xx/5xx,
except under /v1 and /v2, where KServe's protocols answer {"error": "<message>"}. Under /v1,
as KServe's own model server does, every invalid input is a 400 (no 415 or 422).

Domain errors (`app.errors`) get their status and code from one table, `DOMAIN_ERRORS`;
errors of the HTTP exchange itself (a malformed body, a missing file) are raised in this
package as `APIError`, which carries its own status and code."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app import errors as domain
from app.errors import validation_message

log = logging.getLogger("lantern.errors")

PROTOCOL_PREFIXES = ("/v1", "/v2")  # KServe's V1 protocol, the Open Inference Protocol (v2)
V1_INVALID_INPUT = frozenset({415, 422})  # answered 400 under /v1
INTERNAL_ERROR = "The server failed to handle this request."

# Every domain error kind -> (HTTP status, error code). Subclasses not listed take their
# nearest listed base class's entry.
DOMAIN_ERRORS: dict[type[domain.LanternError], tuple[int, str]] = {
    domain.ModelNotFoundError: (404, "model_not_found"),
    domain.VersionNotFoundError: (404, "version_not_found"),
    domain.JobNotFoundError: (404, "job_not_found"),
    domain.NotFoundError: (404, "not_found"),
    domain.EmptyImageError: (422, "empty_image"),
    domain.UnsupportedImageError: (415, "unsupported_media_type"),
    domain.UndecodableImageError: (422, "undecodable_image"),
    domain.TooManyPixelsError: (422, "too_many_pixels"),
    domain.AspectRatioError: (422, "extreme_aspect_ratio"),
    domain.ImageError: (422, "undecodable_image"),
    domain.InvalidTargetError: (422, "invalid_target"),
    domain.UnknownLayerError: (422, "unknown_layer"),
    domain.NoConvLayerError: (422, "no_conv_layer"),
    domain.InvalidParameterError: (422, "invalid_parameter"),
    domain.MissingBaselineError: (422, "missing_baseline"),
    domain.OverBudgetError: (422, "over_budget"),
    domain.InvalidRequestError: (422, "invalid_parameter"),
    domain.GradientsUnverifiedError: (422, "gradients_unverified"),
    domain.GradientsUnsupportedError: (422, "gradients_unsupported"),
    domain.OverloadedError: (503, "overloaded"),
    domain.DeadlineExceededError: (503, "deadline_exceeded"),
    domain.TooManyJobsError: (503, "too_many_jobs"),
    domain.JobStoreUnavailableError: (503, "job_store_unavailable"),
    domain.BusyError: (503, "overloaded"),
    domain.LanternError: (422, "invalid_request"),
}


class APIError(Exception):
    """An error of the HTTP exchange itself (body, media type, protocol), with its status."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def as_api_error(error: domain.LanternError) -> APIError:
    """The HTTP answer to a domain error, from `DOMAIN_ERRORS`."""
    kind = next(k for k in type(error).__mro__ if k in DOMAIN_ERRORS)
    status, code = DOMAIN_ERRORS[kind]
    headers = None
    if isinstance(error, domain.BusyError):
        headers = {"Retry-After": str(error.retry_after)}
    return APIError(status, code, error.message, headers)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def protocol_of(path: str) -> str | None:
    """The KServe protocol prefix `path` is under (/v1 or /v2), or None for Lantern's own API."""
    return next((p for p in PROTOCOL_PREFIXES if path == p or path.startswith(p + "/")), None)


def error_response(
    path: str, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The answer to an error on `path`: the protocol's shape under /v1 and /v2, else Lantern's.
    It is also an ASGI app: middleware answers with `await error_response(...)(scope, receive,
    send)`."""
    protocol = protocol_of(path)
    if protocol is None:
        return JSONResponse(error_body(code, message), status_code=status, headers=headers)
    if protocol == "/v1" and status in V1_INVALID_INPUT:
        status = 400
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def api_error_response(path: str, error: APIError) -> JSONResponse:
    return error_response(path, error.status, error.code, error.message, error.headers)


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, APIError)
    return api_error_response(request.url.path, error)


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, domain.LanternError)
    return api_error_response(request.url.path, as_api_error(error))


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    message = (
        error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    )
    headers = getattr(error, "headers", None)
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return error_response(request.url.path, error.status_code, code, message, headers)


def allowed_methods(request: Request) -> str:
    """Every method some route takes on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        nested = getattr(route, "effective_route_contexts", None)  # an included router
        for candidate in nested() if nested is not None else [route]:
            pattern = getattr(candidate, "path_regex", None)
            if pattern is not None and pattern.match(request.url.path):
                methods |= set(getattr(candidate, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    message = validation_message(error.errors())
    return error_response(request.url.path, 422, "invalid_parameter", message)


async def _client_left(request: Request, error: Exception) -> JSONResponse:
    """The client hung up while its body was being read: nobody sees the answer; the access
    log says 499."""
    return error_response(request.url.path, 499, "client_closed_request", "The client left.")


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request.url.path, 500, "internal_error", INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(domain.LanternError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _client_left)
    app.add_exception_handler(Exception, _unexpected_error)
