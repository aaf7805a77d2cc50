"""The Open Inference Protocol (KServe v2) routes in-process: metadata, tensors in JSON and
binary, encoded images, classification, every bad request with its status, and the errors
answered before or around the v2 routes (405, 404, 413) in the protocol's shape."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import begin_drain, create_app
from tests.conftest import services_of

BATCH = np.random.default_rng(0).normal(size=(2, 1, 28, 28)).astype(np.float32)


def infer_body(data: object = None, shape: object = (2, 1, 28, 28), **overrides: object) -> dict:
    tensor = {"name": "input", "shape": list(shape), "datatype": "FP32"}
    tensor["data"] = BATCH.ravel().tolist() if data is None else data
    return {"inputs": [{**tensor, **overrides}]}


def logits_of(client: TestClient, batch: np.ndarray, version: int = 2) -> np.ndarray:
    model = services_of(client).registry.get("tiny_digits", version)
    return model.logits(batch)


def test_server_metadata_lists_the_extensions(client):
    body = client.get("/v2").json()
    assert body["name"] == "lantern"
    assert {"classification", "binary_tensor_data"} <= set(body["extensions"])


def test_health_and_model_readiness_answer_200(client):
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/tiny_rgb/ready").json() == {"name": "tiny_rgb", "ready": True}
    assert client.get("/v2/models/tiny_digits/versions/1/ready").status_code == 200


def test_model_metadata_describes_the_input_and_output_tensors(client):
    body = client.get("/v2/models/tiny_rgb").json()
    assert body["platform"] == "onnxruntime_onnx"
    assert body["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 16, 16]}]
    assert body["outputs"] == [{"name": "logits", "datatype": "FP32", "shape": [-1, 4]}]


@pytest.mark.parametrize("nested", [False, True])
def test_json_infer_takes_flat_or_nested_data(client, nested):
    data = BATCH.tolist() if nested else None
    response = client.post("/v2/models/tiny_digits/infer", json={**infer_body(data), "id": "r1"})
    assert response.status_code == 200
    body = response.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("tiny_digits", "2", "r1")
    (output,) = body["outputs"]
    assert output["shape"] == [2, 10]
    got = np.array(output["data"], np.float32).reshape(2, 10)
    np.testing.assert_allclose(got, logits_of(client, BATCH), rtol=1e-6)


def test_a_named_version_answers_with_that_version(client):
    response = client.post("/v2/models/tiny_digits/versions/1/infer", json=infer_body())
    got = np.array(response.json()["outputs"][0]["data"], np.float32).reshape(2, 10)
    np.testing.assert_allclose(got, logits_of(client, BATCH, version=1), rtol=1e-6)


def test_binary_tensors_go_both_ways(client):
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [2, 1, 28, 28],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": BATCH.nbytes},
                }
            ],
            "outputs": [{"name": "logits", "parameters": {"binary_data": True}}],
        }
    ).encode()
    response = client.post(
        "/v2/models/tiny_digits/infer",
        content=header + BATCH.tobytes(),
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 200
    split = int(response.headers["inference-header-content-length"])
    meta = json.loads(response.content[:split])
    assert meta["outputs"][0]["parameters"]["binary_data_size"] == 2 * 10 * 4
    got = np.frombuffer(response.content[split:], "<f4").reshape(2, 10)
    np.testing.assert_allclose(got, logits_of(client, BATCH), rtol=1e-6)


def test_a_base64_image_in_json_is_preprocessed_like_predict(client, digit_png):
    tensor = {"name": "input", "shape": [1], "datatype": "BYTES"}
    body = {"inputs": [{**tensor, "data": [base64.b64encode(digit_png).decode()]}]}
    got = client.post("/v2/models/tiny_digits/infer", json=body).json()["outputs"][0]["data"]
    predicted = client.post(
        "/predict?top_k=1", content=digit_png, headers={"content-type": "image/png"}
    )
    assert int(np.argmax(got)) == predicted.json()["predictions"][0]["index"]


def test_binary_bytes_elements_are_length_prefixed(client, digit_png):
    raw = struct.pack("<I", len(digit_png)) + digit_png
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [1, 1],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ]
        }
    ).encode()
    response = client.post(
        "/v2/models/tiny_digits/infer",
        content=header + raw,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 200
    assert response.json()["outputs"][0]["shape"] == [1, 10]


def test_classification_in_json_gives_triton_style_strings(client):
    body = {**infer_body(), "outputs": [{"name": "logits", "parameters": {"classification": 2}}]}
    (output,) = client.post("/v2/models/tiny_digits/infer", json=body).json()["outputs"]
    assert (output["datatype"], output["shape"]) == ("BYTES", [2, 2])
    logits = logits_of(client, BATCH)
    score, index, label = output["data"][0].split(":")
    assert int(index) == int(np.argmax(logits[0])) and label == f"class_{index}"
    assert float(score) == pytest.approx(float(logits[0].max()), abs=1e-5)


JSON_WITH_HUGE_INT = json.dumps(infer_body()).replace('"shape": [2', '"shape": [' + "2" * 5000)
NAN_INFER_BODY = json.dumps(infer_body()).replace(json.dumps(float(BATCH.ravel()[0])), "NaN", 1)
BAD_REQUESTS = [
    # (path, body, expected status, words in the error)
    ("/v2/models/nope/infer", infer_body(), 404, "nope"),
    ("/v2/models/tiny_digits/versions/9/infer", infer_body(), 404, "version 9"),
    ("/v2/models/tiny_digits/versions/x/infer", infer_body(), 400, "model_version"),
    ("/v2/models/tiny_digits/infer", {"inputs": []}, 400, "inputs"),
    ("/v2/models/tiny_digits/infer", infer_body(shape=(2, 1, 28)), 400, "does not match"),
    ("/v2/models/tiny_digits/infer", infer_body(shape=(2, 3, 28, 28)), 400, "does not match"),
    ("/v2/models/tiny_digits/infer", infer_body(data=[1.0, 2.0]), 400, "values for shape"),
    ("/v2/models/tiny_digits/infer", infer_body(data=["a"] * 1568), 400, "numbers"),
    ("/v2/models/tiny_digits/infer", infer_body(data=[[1.0], [1.0, 2.0]]), 400, "numbers"),
    ("/v2/models/tiny_digits/infer", infer_body(datatype="INT64"), 400, "INT64"),
    ("/v2/models/tiny_digits/infer", infer_body(name="pixels"), 400, "pixels"),
    ("/v2/models/tiny_digits/infer", infer_body(shape=(0, 1, 28, 28), data=[]), 400, "1 to"),
    (
        "/v2/models/tiny_digits/infer",
        {**infer_body(), "outputs": [{"name": "probs"}]},
        400,
        "probs",
    ),
    (
        "/v2/models/tiny_digits/infer",
        {**infer_body(), "outputs": [{"name": "logits", "parameters": {"classification": "x"}}]},
        400,
        "classification",
    ),
    (
        "/v2/models/tiny_digits/infer",
        infer_body(shape=(1,), datatype="BYTES", data=["not base64!"]),
        400,
        "base64",
    ),
    (
        "/v2/models/tiny_digits/infer",
        infer_body(shape=(1,), datatype="BYTES", data=["AAAA"]),
        415,
        "",
    ),
    ("/v2/models/tiny_digits/infer", "not json", 400, "not valid"),
    ("/v2/nothing/here", {}, 404, "Not Found"),
    # numbers past Python's 4,300-digit int limit, and values JSON or FP32 cannot hold
    (f"/v2/models/tiny_digits/versions/{'9' * 5000}/infer", infer_body(), 400, "model_version"),
    (f"/v2/models/tiny_digits/versions/{'9' * 30}/infer", infer_body(), 404, "no version"),
    ("/v2/models/tiny_digits/infer", JSON_WITH_HUGE_INT, 400, "not valid"),
    ("/v2/models/tiny_digits/infer", infer_body(data=[1e39] * 1568), 400, "finite"),
    ("/v2/models/tiny_digits/infer", NAN_INFER_BODY, 400, "finite"),
]


@pytest.mark.parametrize(("path", "body", "status", "words"), BAD_REQUESTS)
def test_a_bad_v2_request_gets_the_protocol_error_shape(client, path, body, status, words):
    if isinstance(body, str):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        response = client.post(path, json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert isinstance(error, str) and words in error


@pytest.mark.parametrize(("header", "tail"), [("abc", b""), ("99999", b""), ("2", b"{}extra")])
def test_a_bad_binary_header_is_a_400(client, header, tail):
    response = client.post(
        "/v2/models/tiny_digits/infer",
        content=json.dumps(infer_body()).encode() + tail,
        headers={"Inference-Header-Content-Length": header},
    )
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


NOT_ALLOWED = "Method Not Allowed"
ROUTING_ERRORS = [
    # (method, path, status, methods in Allow, exact body): the protocol's shape under /v2
    ("PUT", "/v2/models/tiny_digits/infer", 405, {"POST"}, {"error": NOT_ALLOWED}),
    ("POST", "/v2", 405, {"GET"}, {"error": NOT_ALLOWED}),
    ("GET", "/v2/models/tiny_digits/infer", 405, {"POST"}, {"error": NOT_ALLOWED}),
    ("POST", "/v2/models/tiny_digits/ready", 405, {"GET"}, {"error": NOT_ALLOWED}),
    ("GET", "/v2/nope", 404, set(), {"error": "Not Found"}),
    ("DELETE", "/v2/nope", 404, set(), {"error": "Not Found"}),
    (
        "PUT",
        "/predict",
        405,
        {"POST"},
        {"error": {"code": "method_not_allowed", "message": NOT_ALLOWED}},
    ),
    ("GET", "/nope", 404, set(), {"error": {"code": "not_found", "message": "Not Found"}}),
    ("GET", "/v2nope", 404, set(), {"error": {"code": "not_found", "message": "Not Found"}}),
]


@pytest.mark.parametrize(("method", "path", "status", "allow", "body"), ROUTING_ERRORS)
def test_routing_errors_take_the_error_shape_of_their_path(
    client, method, path, status, allow, body
):
    response = client.request(method, path, headers={"X-Request-ID": "routing-1"})
    assert response.status_code == status
    assert response.json() == body
    assert {m for m in response.headers.get("allow", "").split(", ") if m} == allow
    assert response.headers["x-request-id"] == "routing-1"


def oversized(limit: int, streamed: bool) -> bytes | Iterator[bytes]:
    """A body one byte over `limit`: declared by Content-Length, or chunked without it."""
    body = b"\0" * (limit + 1)
    return iter([body[:4096], body[4096:]]) if streamed else body


def too_large(limit: int) -> str:
    return f"The request body is over the {limit}-byte limit."


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_v2_body_is_a_413_in_the_protocol_shape(client, settings, streamed):
    limit = settings.max_body_bytes
    response = client.post(
        "/v2/models/tiny_digits/infer",
        content=oversized(limit, streamed),
        headers={"content-type": "application/json", "X-Request-ID": "big-1"},
    )
    assert response.status_code == 413
    assert response.json() == {"error": too_large(limit)}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "big-1"


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_body_outside_v2_keeps_lanterns_shape(client, settings, streamed):
    limit = settings.max_body_bytes
    response = client.post(
        "/predict", content=oversized(limit, streamed), headers={"content-type": "image/png"}
    )
    assert response.status_code == 413
    assert response.json() == {"error": {"code": "body_too_large", "message": too_large(limit)}}


def test_readiness_turns_false_while_draining(settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/v2/health/ready").status_code == 200
        begin_drain(client.app)
        assert client.get("/v2/health/ready").status_code == 503
        assert client.get("/health/ready").status_code == 503
        assert client.get("/v2/models/tiny_digits/ready").json()["ready"] is False
        assert client.get("/v2/health/live").status_code == 200


@pytest.mark.parametrize("path", ["", "/ready"])
def test_a_version_of_5000_digits_is_a_400_for_metadata_and_readiness(client, path):
    response = client.get(f"/v2/models/tiny_digits/versions/{'9' * 5000}{path}")
    assert response.status_code == 400 and isinstance(response.json()["error"], str)


def test_an_inference_header_length_of_5000_digits_is_a_400(client):
    response = client.post(
        "/v2/models/tiny_digits/infer",
        content=json.dumps(infer_body()).encode(),
        headers={"inference-header-content-length": "9" * 5000},
    )
    assert (
        response.status_code == 400
        and "Inference-Header-Content-Length" in response.json()["error"]
    )


def test_finite_inputs_whose_outputs_overflow_are_refused_in_json_and_sent_raw_in_binary(client):
    huge = infer_body(data=[3e38] * 1568)
    in_json = client.post("/v2/models/tiny_digits/infer", json=huge)
    assert in_json.status_code == 400 and "not finite" in in_json.json()["error"]
    binary = {**huge, "parameters": {"binary_data_output": True}}
    raw = client.post("/v2/models/tiny_digits/infer", json=binary)
    assert raw.status_code == 200
    length = int(raw.headers["inference-header-content-length"])
    json.loads(raw.content[:length])  # strict JSON: no NaN in the header


def test_every_json_infer_answer_is_strict_json(client):
    response = client.post("/v2/models/tiny_digits/infer", json=infer_body())
    json.loads(response.text, parse_constant=lambda name: pytest.fail(f"{name} in the answer"))


@pytest.mark.parametrize("coding", ["IDENTITY", "Identity", " identity "])
def test_content_coding_names_are_case_insensitive(client, coding):
    response = client.post(
        "/v2/models/tiny_digits/infer",
        content=json.dumps(infer_body()).encode(),
        headers={"content-type": "application/json", "content-encoding": coding},
    )
    assert response.status_code == 200


def test_the_schema_has_one_non_nullable_version_parameter_and_no_stray_query(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for operation in operations.values():
            names = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
            if "{model_version}" in path:
                (version,) = [p for p in operation["parameters"] if p["name"] == "model_version"]
                assert version["required"] and version["schema"]["type"] == "string", path
            elif path.startswith("/v2"):
                assert ("model_version", "query") not in names, path
