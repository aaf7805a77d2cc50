"""JSON answers serialised once. A route that returns a pydantic object has FastAPI check it
against the route's `response_model` and then serialise it; a route that builds the object
itself can return `json_response(document)` instead and keep `response_model` for OpenAPI:
the same bytes, one pass fewer."""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel


def json_response(document: BaseModel) -> Response:
    """`document` as FastAPI answers it for a route whose `response_model` is its type (by
    alias, every field)."""
    return Response(document.model_dump_json(by_alias=True), media_type="application/json")
