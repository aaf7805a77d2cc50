"""The error answers of every operation in /openapi.json, from one table of rules, so that the
schema describes what the server does: which 4xx and 5xx an operation may give, in the error
shape of its path (Lantern's, or the Open Inference Protocol's under /v2)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.errors import protocol_of

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
V2_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
DESCRIPTIONS = {
    400: "the body or a parameter cannot be parsed",
    401: "API keys are set and the request has no valid one",
    404: "no such model, version or job",
    408: "the body stalled",
    413: "the body is over the size limit",
    415: "not a media type (or encoding) the route takes",
    422: "a parameter or the image cannot be used",
    500: "an unexpected failure",
    503: "overloaded, or not ready (with Retry-After when retrying helps)",
}
BUSY_OPERATIONS = ("/predict", "/explain/", "/feature_maps", "/activation_maximisation", "/infer")
BINARY = {"type": "string", "format": "binary"}
BASE64 = {"type": "string", "format": "byte", "description": "base64 image (or a data: URL)"}


def image_request_body(max_images: int, baseline: bool = False) -> dict[str, Any]:
    """The request body of a route that reads images with `read_upload`: multipart field
    `file` (one or more), JSON base64 `image` or `images`, or a raw image body; with
    `baseline`, a baseline image beside it."""
    many = max_images > 1
    files: dict[str, Any] = (
        {"type": "array", "items": BINARY, "minItems": 1, "maxItems": max_images}
        if many
        else BINARY
    )
    form: dict[str, Any] = {"file": {**files, "description": "one or more images: a batch"}}
    as_json: dict[str, Any] = {"image": BASE64}
    one_of = [{"required": ["image"], "not": {"required": ["images"]}}]
    if many:
        as_json["images"] = {**files, "items": BASE64}
        one_of.append({"required": ["images"], "not": {"required": ["image"]}})
    if baseline:
        form["baseline"] = {**BINARY, "description": "the baseline image (baseline=given)"}
        as_json["baseline"] = BASE64
    form_schema = {"type": "object", "properties": form, "required": ["file"]}
    json_schema = {"type": "object", "properties": as_json, "oneOf": one_of}
    return {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": form_schema},
            "application/json": {"schema": json_schema},
            "image/*": {"schema": BINARY},
        },
    }


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation may answer."""
    statuses = {401, 500}
    parameters = operation.get("parameters", [])
    names = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
    if any(parameter["in"] == "path" for parameter in parameters) or names & {"model", "version"}:
        statuses.add(404)  # an unknown model, version or job
    if any(_can_be_invalid(parameter) for parameter in parameters) or "requestBody" in operation:
        statuses.add(400 if protocol_of(path) else 422)
    if "requestBody" in operation:
        statuses |= {400, 408, 413, 415, 422, 503}
    if method == "post" and any(part in path for part in BUSY_OPERATIONS):
        statuses.add(503)
    if path.startswith("/models/") or path.startswith("/explain/"):
        statuses.add(422)  # unknown layer, no conv layer, gradients unsupported
    return statuses


def _can_be_invalid(parameter: dict[str, Any]) -> bool:
    """Whether some value of the parameter fails validation (any string fits a bare one)."""
    schema = {k: v for k, v in parameter.get("schema", {}).items() if k not in ("title",)}
    return parameter["in"] != "path" or schema != {"type": "string"}


def describe_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add every operation's error answers to an OpenAPI document (replacing FastAPI's 422,
    whose shape is not the server's)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components["V2Error"] = V2_ERROR_SCHEMA
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        protocol = protocol_of(path)  # KServe's V1 and the Open Inference Protocol (v2)
        shape = "V2Error" if protocol else "Error"
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if protocol:
                responses.pop("422", None)  # the protocols' parameter errors are 400s
            declared = {int(status) for status in responses if int(status) >= 400}
            for status in sorted(error_statuses(path, method, operation) | declared):
                described = responses.get(str(status), {})
                responses[str(status)] = {
                    "description": described.get("description") or DESCRIPTIONS[status],
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{shape}"}}
                    },
                }
    return schema


def install_openapi(app: FastAPI, max_images: int) -> None:
    """/openapi.json with the error answers described, and /predict's batch limit."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            predict = schema["paths"].get("/predict", {}).get("post")
            if predict is not None:
                predict["requestBody"] = image_request_body(max_images)
            app.openapi_schema = describe_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
