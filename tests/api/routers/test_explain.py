"""POST /explain/{method} and GET /explain on the tiny store."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.explain.registry import METHODS
from app.gradients.ops import BACKWARD_RULES
from app.main import create_app
from tests.gradients import broken_rules
from tests.tiny_models import manifest_fields, tiny_cnn, tiny_vit, write_store_entry

PNG = {"content-type": "image/png"}


def _explain(client, method, image, query=""):
    return client.post(f"/explain/{method}{query}", content=image, headers=PNG)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_answers_with_a_picture_per_target(client, digit_png, method):
    response = _explain(client, method, digit_png, "?target=1&target=class_3")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["target"]["index"] for m in body["maps"]] == [1, 3]
    for entry in body["maps"]:
        picture = Image.open(io.BytesIO(base64.b64decode(entry["overlay_png"])))
        assert picture.format == "PNG" and min(picture.size) >= 224
    assert body["timing"]["total_ms"] > 0


def test_the_default_target_is_the_top_class(client, digit_png):
    body = _explain(client, "saliency", digit_png).json()
    assert body["maps"][0]["target"]["index"] == body["predictions"][0]["index"]


def test_raw_maps_come_as_npy_or_json_with_the_input_size(client, digit_png):
    as_json = _explain(client, "grad_cam", digit_png, "?raw=json").json()
    as_npy = _explain(client, "grad_cam", digit_png, "?raw=npy").json()
    array = np.load(io.BytesIO(base64.b64decode(as_npy["raw_npy"])))
    assert array.shape == (1, 28, 28) and array.dtype == np.float32
    np.testing.assert_allclose(array[0], as_json["maps"][0]["raw"], atol=1e-6)


def test_integrated_gradients_reports_its_completeness_gap(client, digit_png):
    body = _explain(client, "integrated_gradients", digit_png, "?steps=64").json()
    gap, rise = body["extras"]["completeness_gap"][0], body["extras"]["logit_difference"][0]
    assert abs(gap) <= 0.05 * max(abs(rise), 1e-3)


def test_a_given_baseline_is_taken_from_the_multipart_body(client, digit_png):
    blank = io.BytesIO()
    Image.new("L", (28, 28)).save(blank, "PNG")
    files = {
        "file": ("a.png", digit_png, "image/png"),
        "baseline": ("b.png", blank.getvalue(), "image/png"),
    }
    response = client.post("/explain/integrated_gradients?baseline=given", files=files)
    assert response.status_code == 200, response.text
    missing = _explain(client, "integrated_gradients", digit_png, "?baseline=given")
    assert missing.json()["error"]["code"] == "missing_baseline"


BAD_QUERIES = [
    ("/explain/smoothgrad?samples=0", 422, "invalid_parameter"),
    ("/explain/smoothgrad?samples=100000", 422, "invalid_parameter"),
    ("/explain/integrated_gradients?steps=1", 422, "invalid_parameter"),
    ("/explain/grad_cam?alpha=2", 422, "invalid_parameter"),
    ("/explain/grad_cam?colormap=rainbow", 422, "invalid_parameter"),
    ("/explain/grad_cam?no_such_parameter=1", 422, "invalid_parameter"),
    ("/explain/grad_cam?target=99", 422, "invalid_target"),
    ("/explain/grad_cam?target=no_such_label", 422, "invalid_target"),
    ("/explain/grad_cam?layer=flat", 422, "unknown_layer"),
    ("/explain/grad_cam?model=nope", 404, "model_not_found"),
    ("/explain/no_such_method", 404, "not_found"),
]


@pytest.mark.parametrize(("url", "status", "code"), BAD_QUERIES)
def test_a_bad_explain_request_gets_its_status_and_code(client, digit_png, url, status, code):
    response = client.post(url, content=digit_png, headers=PNG)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_method_bounds_are_declared_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()
    parameters = {
        p["name"]: p for p in schema["paths"]["/explain/smoothgrad"]["post"]["parameters"]
    }
    assert parameters["samples"]["schema"]["minimum"] == 1
    assert parameters["samples"]["schema"]["maximum"] == 200


def test_the_method_list_names_parameters_and_supporting_models(client):
    methods = {m["key"]: m for m in client.get("/explain").json()["methods"]}
    assert set(methods) == set(METHODS)
    assert "steps" in methods["integrated_gradients"]["parameters"]
    assert methods["grad_cam"]["models"] == ["tiny_digits", "tiny_rgb"]


def test_the_method_list_gives_each_method_its_cost_on_each_model(client):
    methods = {m["key"]: m for m in client.get("/explain").json()["methods"]}
    for method in methods.values():
        assert set(method["cost"]) == set(method["models"]) and method["cost_rule"]
    assert methods["smoothgrad"]["cost"]["tiny_digits"] == {"forward": 25, "backward": 25}
    assert methods["rise"]["cost"]["tiny_rgb"] == {"forward": 1000, "backward": 0}
    # the tiny models' CAM layer has 8 channels: one pass for them all, one per channel
    assert methods["ablation_cam"]["cost"]["tiny_digits"] == {"forward": 9, "backward": 0}
    assert methods["grad_cam"]["cost"]["tiny_digits"] == {"forward": 1, "backward": 1}


def test_an_op_without_a_backward_rule_stops_only_the_gradient_methods(tmp_path, digit_png):
    model = tiny_cnn(1, 28, 10, activation="Atan")
    write_store_entry(tmp_path, model, manifest_fields("atan_net", 1, 28, 10))
    with TestClient(create_app(Settings(model_store=tmp_path, default_model="atan_net"))) as client:
        assert client.post("/predict", content=digit_png, headers=PNG).status_code == 200
        response = _explain(client, "saliency", digit_png)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "gradients_unsupported"
        assert "'Atan'" in error["message"] and "node" in error["message"]
        detail = client.get("/models/atan_net").json()["gradients"]
        assert not detail["available"] and "Atan" in detail["error"]
        listed = {m["key"]: m["models"] for m in client.get("/explain").json()["methods"]}
        assert listed["saliency"] == []


@pytest.mark.parametrize("graphs", ["eager", "lazy"])
def test_a_rule_that_fails_the_self_check_stops_only_the_gradient_methods(
    tmp_path, digit_png, monkeypatch, graphs
):
    monkeypatch.setitem(BACKWARD_RULES, "Relu", broken_rules.scaled("Relu", 1.05))
    write_store_entry(tmp_path, tiny_cnn(1, 28, 10), manifest_fields("wrong_net", 1, 28, 10))
    settings = Settings(model_store=tmp_path, default_model="wrong_net", explain_graphs=graphs)
    with TestClient(create_app(settings)) as client:
        before = client.get("/models/wrong_net").json()["gradients"]
        assert before["status"] == ("unverified" if graphs == "eager" else "pending")
        error = _explain(client, "saliency", digit_png).json()["error"]
        assert error["code"] == "gradients_unverified"
        assert "self-check FAILED" in error["message"]
        assert "largest relative error" in error["message"]
        assert _explain(client, "grad_cam", digit_png).status_code == 422
        assert _explain(client, "occlusion", digit_png).status_code == 200
        detail = client.get("/models/wrong_net").json()["gradients"]
        assert not detail["available"] and detail["code"] == "gradients_unverified"
        assert detail["status"] == "unverified"
        assert not detail["check"]["passed"] and detail["check"]["error"] > 0.01


def test_a_token_model_gets_gradient_maps_but_its_cams_are_refused_with_the_reason(
    tmp_path, digit_png
):
    fields = {**manifest_fields("tiny_vit", 1, 28, 10), "layers": {"cam": None, "features": []}}
    write_store_entry(tmp_path, tiny_vit(1, 28, 10), fields)
    with TestClient(create_app(Settings(model_store=tmp_path, default_model="tiny_vit"))) as client:
        assert _explain(client, "saliency", digit_png).status_code == 200
        response = _explain(client, "grad_cam", digit_png)
        assert response.status_code == 422
        assert "attention" in response.json()["error"]["message"]
        assert client.get("/models/tiny_vit").json()["gradients"]["check"]["passed"]


def test_occlusion_returns_a_class_map_picture_with_a_legend(client, digit_png):
    query = "?window_height=7&window_width=7&stride=7"
    body = _explain(client, "occlusion", digit_png, query).json()
    class_map = np.array(body["extras"]["class_map"])
    assert class_map.shape == (28, 28) and body["extras"]["forward_passes"] == 17
    picture = Image.open(io.BytesIO(base64.b64decode(body["class_map"]["png"])))
    assert picture.format == "PNG" and min(picture.size) >= 224
    legend = {entry["index"]: entry for entry in body["class_map"]["legend"]}
    assert set(legend) == set(np.unique(class_map).tolist())
    for index, entry in legend.items():
        assert entry["label"] == f"class_{index}" and entry["colour"].startswith("#")


def test_a_request_over_the_forward_pass_budget_is_refused_with_the_count(client, digit_png):
    response = _explain(client, "rise", digit_png, "?samples=5000")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "over_budget"
    assert "5000 forward passes" in error["message"] and "4096" in error["message"]


def test_faithfulness_curves_come_with_every_map_when_asked_for(client, digit_png):
    query = "?target=1&target=3&faithfulness=true&faithfulness_steps=10"
    query += "&faithfulness_substrate=black"
    body = _explain(client, "grad_cam", digit_png, query).json()
    for entry in body["maps"]:
        for curve in ("deletion", "insertion"):
            points = entry["faithfulness"][curve]["curve"]
            assert len(points) == 11 and 0 <= entry["faithfulness"][curve]["auc"] <= 1
        assert entry["faithfulness"]["deletion"]["curve"][0] == pytest.approx(
            entry["target"]["probability"], rel=1e-4
        )
    assert "faithfulness" not in _explain(client, "grad_cam", digit_png).json()["maps"][0]


def test_faithfulness_passes_count_against_the_same_budget(tiny_store, digit_png):
    settings = Settings(model_store=tiny_store, default_model="tiny_digits", max_forward_passes=50)
    with TestClient(create_app(settings)) as small:
        query = "?faithfulness=true&faithfulness_steps=30"
        error = _explain(small, "saliency", digit_png, query).json()["error"]
        assert error["code"] == "over_budget" and "62 forward passes" in error["message"]
        query = "?faithfulness=true&faithfulness_steps=10&samples=40"
        error = _explain(small, "rise", digit_png, query).json()["error"]
        assert "the limit is 28" in error["message"]


@pytest.mark.parametrize("method", ["occlusion", "rise", "score_cam", "eigen_cam", "ablation_cam"])
def test_forward_only_methods_work_on_a_model_without_gradients(tmp_path, digit_png, method):
    model = tiny_cnn(1, 28, 10, activation="Atan")
    write_store_entry(tmp_path, model, manifest_fields("atan_net", 1, 28, 10))
    with TestClient(create_app(Settings(model_store=tmp_path, default_model="atan_net"))) as client:
        assert _explain(client, method, digit_png).status_code == 200
        listed = {m["key"]: m["models"] for m in client.get("/explain").json()["methods"]}
        assert listed[method] == ["atan_net"]


@pytest.mark.parametrize(
    ("method", "size"), [("integrated_gradients", "steps"), ("smoothgrad", "samples")]
)
def test_batched_gradient_methods_count_against_the_forward_pass_budget(
    tiny_store, digit_png, method, size
):
    settings = Settings(model_store=tiny_store, default_model="tiny_digits", max_forward_passes=100)
    with TestClient(create_app(settings)) as small_budget:
        within = _explain(small_budget, method, digit_png, f"?{size}=50&target=1&target=2")
        assert within.status_code == 200, within.text
        over = _explain(small_budget, method, digit_png, f"?{size}=51&target=1&target=2")
    assert over.status_code == 422
    error = over.json()["error"]
    assert error["code"] == "over_budget" and "102" in error["message"]


@pytest.mark.parametrize("target", ["²", "--1", "-1", "1.5"])
def test_a_target_that_is_not_a_plain_index_or_label_is_422(client, digit_png, target):
    response = _explain(client, "grad_cam", digit_png, f"?target={target}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_target"
