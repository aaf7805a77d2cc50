"""GET /models, /models/{name} and the health probes."""

from __future__ import annotations


def test_models_lists_each_model_once_at_its_highest_version(client):
    body = client.get("/models").json()
    assert [(m["name"], m["version"], m["versions"]) for m in body["models"]] == [
        ("tiny_digits", 2, [1, 2]),
        ("tiny_rgb", 1, [1]),
    ]
    assert body["refused"] == {}


def test_a_model_description_has_input_labels_parameters_and_provenance(client):
    body = client.get("/models/tiny_rgb").json()
    assert body["input"] == {
        "name": "input",
        "channels": 3,
        "height": 16,
        "width": 16,
        "layout": "NCHW",
    }
    assert body["labels"] == ["class_0", "class_1", "class_2", "class_3"]
    assert body["parameters"] == 8 * 3 * 9 + 8 + 4 * 8 + 4
    assert body["provenance"]["architecture"] == "tiny_cnn"
    assert len(body["sha256"]) == 64


def test_a_model_description_says_whether_gradients_work_and_what_they_cost(client, digit_png):
    gradients = client.get("/models/tiny_digits").json()["gradients"]
    assert gradients["available"] and gradients["error"] is None
    assert gradients["cam_layer"] == "relu" and gradients["conv_layers"] == ["conv", "relu"]
    explained = client.post("/explain/grad_cam", files={"file": ("d.png", digit_png)})
    assert explained.status_code == 200
    assert client.get("/models/tiny_digits").json()["gradients"]["build_seconds"] > 0


def test_a_model_description_gives_the_gradient_self_check_and_its_time(client):
    gradients = client.get("/models/tiny_digits").json()["gradients"]
    check = gradients["check"]
    assert check["passed"] and gradients["code"] is None
    assert 0 <= check["error"] <= check["tolerance"] and check["seconds"] > 0
    assert 0 <= check["resolution"] <= check["tolerance"]
    assert "sample" in check["worst"]


def test_a_named_version_is_described(client):
    assert client.get("/models/tiny_digits?version=1").json()["version"] == 1


def test_an_unknown_model_or_version_is_404(client):
    assert client.get("/models/nope").json()["error"]["code"] == "model_not_found"
    assert client.get("/models/tiny_rgb?version=3").status_code == 404


def test_liveness_and_readiness_answer_once_the_store_is_loaded(client):
    assert client.get("/health/live").json() == {"status": "live", "models": 3}
    assert client.get("/health/ready").json() == {"status": "ready", "models": 3}
