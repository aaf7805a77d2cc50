"""app/api/quick.py: a quick route answers a plain request without FastAPI's solving, and
every request, plain or not, exactly as FastAPI's solving would."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import fastapi.routing
import pytest
from fastapi import APIRouter, FastAPI

from app.api.quick import plain_int, quick_route

PNG = {"content-type": "image/png"}
V2_BODY = {
    "inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [0.0] * 784}]
}


@contextmanager
def fastapi_solving(app: FastAPI) -> Iterator[None]:
    """Every request through FastAPI's own solving (a quick route steps aside while any
    dependency is overridden)."""
    app.dependency_overrides[plain_int] = plain_int
    try:
        yield
    finally:
        app.dependency_overrides.pop(plain_int)


@contextmanager
def no_fastapi_solving(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(**_: object) -> None:
        raise AssertionError("FastAPI solved a request a quick route should have")

    with monkeypatch.context() as patch:
        patch.setattr(fastapi.routing, "solve_dependencies", refuse)
        yield


@pytest.mark.parametrize(
    ("text", "most", "expected"),
    [
        ("5", None, 5),
        ("1000", 1000, 1000),
        ("1001", 1000, None),
        ("0", None, None),
        ("05", None, None),
        ("+5", None, None),
        (" 5", None, None),
        ("5.0", None, None),
        ("\u0665", None, None),  # an Arabic-Indic five
        ("", None, None),
        (None, None, None),
        ("9" * 18, None, 10**18 - 1),
        ("1" + "0" * 18, None, None),
    ],
)
def test_plain_int_takes_only_numbers_written_plainly(text, most, expected):
    assert plain_int(text, most) == expected


def answer(response) -> tuple[int, object]:
    body = response.json()
    if isinstance(body, dict):
        body.pop("timing", None)
    return response.status_code, body


PREDICT_QUERIES = [
    "",
    "?top_k=3",
    "?top_k=1000",
    "?model=tiny_digits&version=1&top_k=2",
    "?model=&top_k=2",
    "?top_k=2&top_k=4",
    "?unknown=1",
    "?top_k=0",
    "?top_k=1001",
    "?top_k=05",
    "?top_k=+3",
    "?top_k=%203",
    "?top_k=",
    "?top_k=many",
    "?version=",
    "?version=0",
    "?version=9",
    "?version=01",
    "?model=nope",
    "?model=nope&top_k=0",
]


@pytest.mark.parametrize("query", PREDICT_QUERIES)
def test_predict_answers_every_query_as_fastapis_solving_does(client, digit_png, query):
    quick = client.post("/predict" + query, content=digit_png, headers=PNG)
    with fastapi_solving(client.app):
        solved = client.post("/predict" + query, content=digit_png, headers=PNG)
    assert answer(quick) == answer(solved)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/models/tiny_digits/infer",
        "/v2/models/tiny_digits/versions/1/infer",
        "/v2/models/tiny_digits/versions/01/infer",
        "/v2/models/tiny_digits/versions/9/infer",
        "/v2/models/tiny_digits/versions/x1/infer",
        "/v2/models/tiny_digits/versions/" + "1" * 41 + "/infer",
        "/v2/models/tiny_digits/versions/" + "1" * 30 + "/infer",
        "/v2/models/nope/infer",
    ],
)
def test_v2_infer_answers_every_path_as_fastapis_solving_does(client, path):
    quick = client.post(path, json=V2_BODY)
    with fastapi_solving(client.app):
        solved = client.post(path, json=V2_BODY)
    assert answer(quick) == answer(solved)


@pytest.mark.parametrize("name", ["tiny_digits", "nope"])
def test_v1_predict_answers_as_fastapis_solving_does(client, digit_png, name):
    body = {"instances": [{"b64": base64.b64encode(digit_png).decode()}]}
    quick = client.post(f"/v1/models/{name}:predict", json=body)
    with fastapi_solving(client.app):
        solved = client.post(f"/v1/models/{name}:predict", json=body)
    assert answer(quick) == answer(solved)


def test_plain_inference_requests_skip_fastapis_solving(client, digit_png, monkeypatch):
    body = {"instances": [{"b64": base64.b64encode(digit_png).decode()}]}
    with no_fastapi_solving(monkeypatch):
        predicted = client.post(
            "/predict?model=tiny_digits&top_k=3", content=digit_png, headers=PNG
        )
        inferred = client.post("/v2/models/tiny_digits/versions/2/infer", json=V2_BODY)
        v1 = client.post("/v1/models/tiny_digits:predict", json=body)
    assert (predicted.status_code, inferred.status_code, v1.status_code) == (200, 200, 200)


def test_an_unusual_query_goes_through_fastapis_solving(client, digit_png, monkeypatch):
    with no_fastapi_solving(monkeypatch):
        response = client.post("/predict?top_k=05", content=digit_png, headers=PNG)
    assert response.status_code == 500  # the refusing stand-in was called


def test_a_quick_route_needs_an_async_endpoint():
    router = APIRouter()

    def endpoint() -> None: ...

    with pytest.raises(TypeError, match="async"):
        router.add_api_route("/x", endpoint, route_class_override=quick_route(lambda _: {}))
