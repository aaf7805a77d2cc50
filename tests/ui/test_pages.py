"""The pages and static files, without a browser (app/api/ui.py)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.api.routers.ui import STATIC_DIR, sample_images
from app.imaging import heatmap


def test_the_main_page_is_html_that_loads_its_module(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js">' in response.text
    assert 'data-default="tiny_digits"' in response.text


def test_the_model_page_of_a_loaded_model_is_html(client: TestClient) -> None:
    response = client.get("/ui/models/tiny_rgb")
    assert response.status_code == 200
    assert 'data-model="tiny_rgb"' in response.text


def test_the_model_page_of_an_unknown_model_is_a_readable_404(client: TestClient) -> None:
    response = client.get("/ui/models/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No model named" in response.text


def test_the_pages_stay_out_of_the_openapi_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith(("/ui/", "/static")) for path in paths)


def test_static_files_are_served_and_nothing_comes_from_elsewhere(client: TestClient) -> None:
    for path in ("/static/js/main.js", "/static/js/model_page.js", "/static/css/lantern.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "http://" not in response.text and "https://" not in response.text, path
    assert "https://" not in client.get("/").text


def test_samples_are_listed_only_for_loaded_models() -> None:
    samples = sample_images(["mnist_cnn"])
    assert list(samples) == ["mnist_cnn"]
    assert sorted(sample["label"] for sample in samples["mnist_cnn"]) == [str(d) for d in range(10)]
    assert sample_images(["not_loaded"]) == {}


def test_the_default_models_samples_come_first() -> None:
    assert list(sample_images(["cifar_resnet", "mnist_cnn"], first="mnist_cnn"))[0] == "mnist_cnn"
    assert list(sample_images(["cifar_resnet", "mnist_cnn"], first="cifar_resnet"))[0] == (
        "cifar_resnet"
    )


def test_the_page_colour_bars_use_the_servers_colour_maps() -> None:
    script = (STATIC_DIR / "js" / "colour_bar.js").read_text()
    anchors = dict(re.findall(r'^\s+(\w+): "([0-9a-f ]+)",$', script, re.MULTILINE))
    assert anchors == heatmap._ANCHORS


def test_a_model_name_in_the_page_url_is_escaped(client: TestClient) -> None:
    response = client.get("/ui/models/<script>alert(1)</script>")
    assert response.status_code == 404
    assert "<script>alert" not in response.text


def test_photo_samples_are_listed_by_their_whole_name() -> None:
    samples = sample_images(["efficientnet_lite0"])["efficientnet_lite0"]
    labels = [sample["label"] for sample in samples]
    assert "chelsea" in labels and "grace-hopper" in labels and len(labels) == 11
    assert all(sample["url"].endswith(".jpg") for sample in samples)
