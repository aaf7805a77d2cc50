"""app/api/encoding.py: a JSON answer serialised once is the one FastAPI serialises."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.api.encoding import json_response, json_values
from app.api.schemas import ImageResult, PredictResponse, PredictTiming
from app.api.v1.schemas import V1Prediction, V1PredictResponse
from app.imaging.hints import Hint
from app.store.manifest import ClassScore

SCORES = [
    ClassScore.model_construct(index=3, label='three \u00e9\u6f22 "q"', probability=0.9999999),
    ClassScore.model_construct(index=0, label="0", probability=1e-12),
    ClassScore.model_construct(index=7, label="seven", probability=0.1 + 0.2),
]
HINT = Hint(code="photo_for_digit_model", message="This looks like a photo.\n")
DOCUMENTS: list[BaseModel] = [
    PredictResponse(
        model="mnist_cnn",
        version=2,
        predictions=SCORES,
        results=[ImageResult(predictions=SCORES, hints=[HINT]), ImageResult(predictions=[])],
        hints=[HINT],
        timing=PredictTiming(decode_ms=0.123456789, inference_ms=1e-7, total_ms=12.0),
    ),
    V1PredictResponse(
        predictions=[V1Prediction(index=3, label="three", probability=0.5, top_k=SCORES)]
    ),
]


def served_both_ways(document: BaseModel) -> tuple[Response, Response]:
    app = FastAPI()

    @app.get("/fastapi", response_model=type(document))
    def by_fastapi() -> BaseModel:
        return document

    @app.get("/once", response_model=type(document))
    def once() -> Response:
        return json_response(document)

    with TestClient(app) as client:
        return client.get("/fastapi"), client.get("/once")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: type(d).__name__)
def test_an_answer_serialised_once_has_the_bytes_and_headers_fastapi_gives(document):
    theirs, ours = served_both_ways(document)
    assert ours.content == theirs.content
    assert ours.headers == theirs.headers
    assert ours.status_code == theirs.status_code == 200


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: type(d).__name__)
def test_json_values_of_a_model_are_the_bytes_of_the_model(document):
    values = document.model_dump(by_alias=True)
    assert json_values(values).body == json_response(document).body
    assert json_values(values).headers == json_response(document).headers


def test_json_values_write_nan_and_infinity_as_null_like_a_model():
    timing = PredictTiming(decode_ms=float("nan"), inference_ms=float("inf"), total_ms=1.0)
    assert json_values(timing.model_dump()).body == json_response(timing).body
    assert json_values({"x": float("-inf")}).body == b'{"x":null}'
