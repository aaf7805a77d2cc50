"""JSON answers serialised once. A route that returns a pydantic object has FastAPI check it
against the route's `response_model` and then serialise it; a route that builds the object
itself can return `json_response(document)` instead and keep `response_model` for OpenAPI:
the same bytes, one pass fewer. A hot route can skip the object too and return
`json_values(values)`: plain JSON values in the model's shape, serialised as pydantic
serialises the model (tests check that the model takes the values and gives these bytes)."""

from __future__ import annotations

from typing import Any

import pydantic_core
from fastapi.responses import Response
from pydantic import BaseModel


def json_response(document: BaseModel) -> Response:
    """`document` as FastAPI answers it for a route whose `response_model` is its type (by
    alias, every field)."""
    return Response(document.model_dump_json(by_alias=True), media_type="application/json")


def json_values(values: Any) -> Response:
    """Plain JSON values (dicts, lists, numbers, strings, pydantic objects) as
    `json_response` would write the model they fit: compact, UTF-8, NaN and infinity null."""
    return Response(
        pydantic_core.to_json(values, inf_nan_mode="null"), media_type="application/json"
    )
