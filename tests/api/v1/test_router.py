"""KServe's V1 protocol in process: readiness, :predict (images in each accepted form, tensors),
:explain (the same service as /explain/{method}: equal maps), invalid inputs as 400
{"error": ...}, and the routes each role serves."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.main import begin_drain, create_app
from app.runtime.jobs import JobSpec
from app.runtime.loader import load_store
from tests.conftest import png_bytes, services_of

MODEL = "/v1/models/tiny_digits"


def image(seed: int) -> bytes:
    """A 28x28 grey PNG of random strokes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (28, 28)).astype(np.uint8)
    return png_bytes(Image.fromarray(pixels))


def text(png: bytes) -> str:
    return base64.b64encode(png).decode()


@pytest.fixture(scope="module")
def digits(tiny_store):
    return load_store(tiny_store).get("tiny_digits")


def expected_probabilities(model, pngs: list[bytes], settings: Settings) -> np.ndarray:
    return model.probabilities(model.preprocess(pngs, settings.image_limits))  # (N, K)


def test_readiness_and_the_model_list_answer_as_kserve_does(client):
    assert client.get(MODEL).json() == {"name": "tiny_digits", "ready": True}
    assert set(client.get("/v1/models").json()["models"]) == {"tiny_digits", "tiny_rgb"}
    missing = client.get("/v1/models/nope")
    assert (missing.status_code, list(missing.json())) == (404, ["error"])


def test_before_the_store_is_loaded_the_model_is_not_ready(settings):
    client = TestClient(create_app(settings))  # no lifespan: nothing loaded yet
    for answer in (client.get(MODEL), client.post(MODEL + ":predict", json={"instances": [1]})):
        assert answer.status_code == 503
        assert answer.json()["error"].startswith("Model with name tiny_digits is not ready.")


def test_a_draining_server_is_not_ready(settings):
    app = create_app(settings)
    with TestClient(app) as client:
        begin_drain(app)
        answer = client.get(MODEL)
    assert answer.status_code == 503 and "shutting down" in answer.json()["error"]


@pytest.mark.parametrize(
    "form",
    [
        lambda b: {"b64": b},
        lambda b: {"image": {"b64": b}, "key": "photo-1"},
        lambda b: {"image_bytes": {"b64": b}},
        lambda b: {"data": b},
        lambda b: b,
        lambda b: {"b64": "data:image/png;base64," + b},
    ],
    ids=["b64", "image-field-and-key", "image_bytes", "torchserve-data", "bare", "data-url"],
)
def test_predict_takes_images_in_each_documented_form(client, digits, settings, form):
    pngs = [image(1), image(2)]
    body = {"instances": [form(text(png)) for png in pngs], "parameters": {"top_k": 3}}
    answer = client.post(MODEL + ":predict", json=body)
    assert answer.status_code == 200, answer.text
    expected = expected_probabilities(digits, pngs, settings)
    for prediction, row in zip(answer.json()["predictions"], expected, strict=True):
        assert prediction["index"] == int(np.argmax(row)) == prediction["top_k"][0]["index"]
        assert prediction["probability"] == pytest.approx(float(row.max()), rel=1e-5)
        assert len(prediction["top_k"]) == 3


def test_predict_takes_tensors_in_the_models_input_shape(client, digits):
    batch = np.random.default_rng(0).normal(size=(2, 1, 28, 28)).astype(np.float32)
    answer = client.post(MODEL + ":predict", json={"inputs": batch.tolist()})
    assert answer.status_code == 200, answer.text
    expected = digits.probabilities(batch)
    got = [p["top_k"][0]["probability"] for p in answer.json()["predictions"]]
    np.testing.assert_allclose(got, expected.max(axis=1), rtol=1e-5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "Input should be a valid dictionary"),
        (b'{"instances": []}', "at least 1 item"),
        (b'{"instances": {"b64": "AA=="}}', "valid list"),
        (b'{"instances": [[0.5], {"b64": "AA=="}]}', "every instance as an image or"),
        (b'{"instances": [[[0.5, 0.5]]]}', "input shape [1, 28, 28]"),
        (b'{"instances": [[[[1e39]]]]}', "input shape"),
        (b'{"instances": [[1, [2]]]}', "nested lists of numbers"),
        (b'{"instances": [{"b64": "%%%"}]}', "not valid base64"),
        (b'{"instances": [{"b64": "aGVsbG8="}]}', "image"),
        (b'{"instances": [{"b64": "AA==", "b65": "AA=="}]}', "neither an image"),
        (b'{"instances": [{"b64": "AA=="}], "parameters": {"top_k": 0}}', "top_k"),
        (b'{"instances": [{"b64": "AA=="}], "parameters": {"top_k": true}}', "top_k"),
        (b'{"instances": [{"b64": "AA=="}], "parameters": {"k": 2}}', "Unknown parameter 'k'"),
    ],
)
def test_an_invalid_predict_body_is_a_400_in_kserves_shape(client, body, message):
    answer = client.post(MODEL + ":predict", content=body)
    assert answer.status_code == 400, answer.text
    assert list(answer.json()) == ["error"] and message in answer.json()["error"]


def test_a_non_finite_tensor_is_refused(client):
    batch = np.full((1, 1, 28, 28), 1e39).tolist()  # overflows float32
    answer = client.post(MODEL + ":predict", json={"instances": batch})
    assert answer.status_code == 400 and "finite" in answer.json()["error"]


def test_too_many_instances_are_refused(tiny_store):
    settings = Settings(model_store=tiny_store, max_images_per_request=2)
    with TestClient(create_app(settings)) as client:
        answer = client.post(MODEL + ":predict", json={"instances": [{"b64": "AA=="}] * 3})
    assert answer.status_code == 400 and "At most 2 instances" in answer.json()["error"]


def test_the_verbs_are_routed_by_method_and_name(client):
    assert client.get(MODEL + ":predict").status_code == 405
    assert client.post(MODEL + ":train", json={}).status_code == 404


def test_explain_gives_the_maps_of_the_explain_route_for_the_same_request(client, digit_png):
    body = {
        "instances": [{"b64": text(digit_png)}],
        "parameters": {"method": "grad_cam", "target": [3, "class_5"], "raw": "json"},
    }
    answer = client.post(MODEL + ":explain", json=body)
    assert answer.status_code == 200, answer.text
    reference = client.post(
        "/explain/grad_cam?target=3&target=class_5&raw=json",
        content=digit_png,
        headers={"content-type": "image/png"},
    ).json()
    (explanation,) = answer.json()["explanations"]
    assert explanation["maps"] == reference["maps"]
    assert explanation["predictions"] == reference["predictions"]
    (prediction,) = answer.json()["predictions"]
    assert prediction["top_k"] == reference["predictions"]
    assert np.asarray(explanation["maps"][0]["raw"]).shape == (28, 28)


def test_explain_reads_the_method_from_the_query_and_defaults_to_the_servers(client, digit_png):
    body = {"instances": [{"b64": text(digit_png)}]}
    by_query = client.post(MODEL + ":explain?method=saliency&target=1", json=body)
    assert by_query.status_code == 200, by_query.text
    assert by_query.json()["explanations"][0]["maps"][0]["target"]["index"] == 1
    by_default = client.post(MODEL + ":explain", json=body).json()["explanations"][0]
    assert by_default["layer"] is not None  # grad_cam, the default method, reads a layer


def test_explain_of_a_tensor_equals_explain_of_its_image(client, digits, settings, digit_png):
    tensor = digits.preprocess([digit_png], settings.image_limits)  # (1, 1, 28, 28)
    parameters = {"method": "saliency", "target": 2}
    from_tensor = client.post(
        MODEL + ":explain", json={"instances": tensor.tolist(), "parameters": parameters}
    )
    from_image = client.post(
        MODEL + ":explain",
        json={"instances": [{"b64": text(digit_png)}], "parameters": parameters},
    )
    assert from_tensor.status_code == 200, from_tensor.text
    first, second = from_tensor.json()["explanations"][0], from_image.json()["explanations"][0]
    assert first["maps"] == second["maps"] and first["input_png"] == second["input_png"]


def test_explain_takes_a_baseline_image_for_a_given_baseline(client, digit_png):
    parameters = {"method": "integrated_gradients", "baseline": "given", "steps": 4}
    instances = [{"b64": text(digit_png)}]
    missing = client.post(
        MODEL + ":explain", json={"instances": instances, "parameters": parameters}
    )
    assert missing.status_code == 400
    parameters["baseline_image"] = {"b64": text(image(5))}
    given = client.post(MODEL + ":explain", json={"instances": instances, "parameters": parameters})
    assert given.status_code == 200, given.text


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"method": "nope"}, "Unknown method 'nope'"),
        ({"method": "grad_cam", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"method": "occlusion", "window": -1}, "window"),
        ({"method": "grad_cam", "target": 99}, "99"),
        ({"method": "grad_cam", "layer": "no_such_layer"}, "no_such_layer"),
    ],
)
def test_an_invalid_explain_request_is_a_400(client, digit_png, parameters, message):
    body = {"instances": [{"b64": text(digit_png)}], "parameters": parameters}
    answer = client.post(MODEL + ":explain", json=body)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


def test_the_forward_pass_budget_is_shared_by_the_instances(tiny_store, digit_png):
    settings = Settings(model_store=tiny_store, max_forward_passes=60)
    body = {"parameters": {"method": "rise", "samples": 50, "target": 1}}
    with TestClient(create_app(settings)) as client:
        one = client.post(MODEL + ":explain", json={**body, "instances": [text(digit_png)]})
        two = client.post(MODEL + ":explain", json={**body, "instances": [text(digit_png)] * 2})
    assert one.status_code == 200, one.text
    assert two.status_code == 400 and "forward passes" in two.json()["error"]


@pytest.fixture(scope="module")
def explainer(tiny_store) -> Iterator[TestClient]:
    settings = Settings(model_store=tiny_store, default_model="tiny_digits", role="explainer")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def predictor(tiny_store) -> Iterator[TestClient]:
    settings = Settings(model_store=tiny_store, default_model="tiny_digits", role="predictor")
    with TestClient(create_app(settings)) as client:
        yield client


V2_INFER = {"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32",
                        "data": [0.0] * 784}]}  # fmt: skip


def test_an_explainer_serves_explanations_and_no_predictions(explainer, digit_png):
    body = {"instances": [text(digit_png)], "parameters": {"method": "saliency"}}
    assert explainer.post(MODEL + ":explain", json=body).status_code == 200
    assert explainer.post(MODEL + ":predict", json=body).status_code == 404
    png = {"content-type": "image/png"}
    assert explainer.post("/predict", content=digit_png, headers=png).status_code == 404
    assert explainer.post("/v2/models/tiny_digits/infer", json=V2_INFER).status_code == 404
    assert explainer.post("/explain/saliency", content=digit_png, headers=png).status_code == 200
    assert explainer.get(MODEL).status_code == explainer.get("/v2/health/ready").status_code == 200


def test_a_predictor_serves_predictions_and_no_explanations(predictor, digit_png):
    body = {"instances": [text(digit_png)]}
    assert predictor.post(MODEL + ":predict", json=body).status_code == 200
    assert predictor.post("/v2/models/tiny_digits/infer", json=V2_INFER).status_code == 200
    assert predictor.post(MODEL + ":explain", json=body).status_code == 404
    png = {"content-type": "image/png"}
    assert predictor.post("/explain/saliency", content=digit_png, headers=png).status_code == 404
    assert predictor.get("/jobs/x").status_code == 404
    assert predictor.get("/").status_code == 404


def test_a_predictor_takes_no_job_from_its_store(predictor):
    jobs = services_of(predictor).jobs
    queued = jobs.submit(
        JobSpec(kind="any", model="tiny_digits", version=1, parameters={}, steps=1)
    )
    time.sleep(0.3)  # a runner would have taken it (and failed it: no such kind)
    assert jobs.get(queued.id).status == "queued"


def test_openapi_describes_the_v1_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/models/{model_name}", "/v1/models/{model_name}:predict"} <= set(paths)
    explain = paths["/v1/models/{model_name}:explain"]["post"]
    assert "instances" in str(explain["requestBody"])
