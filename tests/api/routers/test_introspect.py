"""The introspection routes: layers, summary, diagram, filters, feature maps, and the
activation maximisation request (its job is tested in test_jobs.py)."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image


def picture(encoded: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert image.format == "PNG"
    return image


def test_layers_lists_conv_activation_pool_and_dense_with_shapes(client):
    body = client.get("/models/tiny_digits/layers").json()
    assert body["layers"] == [
        {"name": "conv", "node": "", "op": "Conv", "kind": "conv", "shape": [8, 14, 14]},
        {"name": "relu", "node": "", "op": "Relu", "kind": "activation", "shape": [8, 14, 14]},
        {"name": "pool", "node": "", "op": "GlobalAveragePool", "kind": "pool", "shape": [8, 1, 1]},
        {"name": "logits", "node": "", "op": "Gemm", "kind": "dense", "shape": [10]},
    ]


def test_layers_with_all_adds_the_other_nodes_and_a_version_may_be_named(client):
    body = client.get("/models/tiny_digits/layers?all=true&version=1").json()
    assert [layer["op"] for layer in body["layers"]][3] == "Flatten"


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/models/nope/layers", 404, "model_not_found"),
        ("/models/tiny_digits/summary?version=9", 404, "version_not_found"),
        ("/models/tiny_digits/filters?layer=relu", 422, "unknown_layer"),
        ("/models/tiny_digits/filters?inputs=rgb", 422, "unknown_layer"),
        ("/models/tiny_digits/filters?inputs=other", 422, "invalid_parameter"),
    ],
)
def test_bad_introspection_requests_are_refused(client, url, status, code):
    response = client.get(url)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_the_summary_has_rows_and_totals(client):
    body = client.get("/models/tiny_rgb/summary").json()
    assert [(r["name"], r["type"], r["parameters"]) for r in body["rows"]] == [
        ("conv", "Conv2D", 8 * 3 * 9 + 8),
        ("pool", "GlobalAveragePooling2D", 0),
        ("flat", "Flatten", 0),
        ("logits", "Dense", 4 * 8 + 4),
    ]
    assert body["total_parameters"] == body["trainable_parameters"] == 260
    assert body["total_macs"] == 8 * 8 * 8 * 3 * 3 * 3 + 8 * 4


def test_the_text_summary_is_plain_text(client):
    response = client.get("/models/tiny_rgb/summary.txt")
    assert response.headers["content-type"].startswith("text/plain")
    assert "Total params: 260" in response.text.splitlines()


def test_the_diagram_is_an_svg_with_a_block_per_layer(client):
    response = client.get("/models/tiny_digits/diagram.svg")
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.text)
    layers = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "layer" in g.get("class")]
    assert len(layers) == 5


def test_filters_of_a_colour_first_layer_are_rgb_tiles(client):
    body = client.get("/models/tiny_rgb/filters").json()
    assert (body["layer"], body["shape"], body["mode"]) == ("conv", [8, 3, 3, 3], "rgb")
    assert picture(body["grid_png"]).mode == "RGB"


def test_filters_of_a_grey_layer_get_a_tile_per_input(client):
    body = client.get("/models/tiny_digits/filters?layer=conv&inputs=each").json()
    assert (body["shape"], body["mode"]) == ([8, 1, 3, 3], "each")
    assert picture(body["grid_png"]).size == (3 * 26 + 2, 3 * 26 + 2)  # 8 tiles, near square


def test_feature_maps_default_to_the_manifest_layer(client, digit_png):
    response = client.post("/models/tiny_digits/feature_maps", content=digit_png,
                           headers={"content-type": "image/png"})  # fmt: skip
    body = response.json()
    assert (body["layer"], body["shape"], body["order"]) == ("relu", [8, 14, 14], "none")
    assert [channel["index"] for channel in body["channels"]] == list(range(8))
    assert picture(body["grid_png"]).size == (3 * 58 + 2, 3 * 58 + 2)  # 14 px tiles x 4
    assert "raw" not in body and "raw_npy" not in body


def test_feature_maps_in_mean_order_come_highest_first_with_raw_data(client, digit_png):
    files = {"file": ("digit.png", digit_png, "image/png")}
    body = client.post("/models/tiny_digits/feature_maps?order=mean&raw=npy", files=files).json()
    means = [channel["mean"] for channel in body["channels"]]
    assert means == sorted(means, reverse=True)
    raw = np.load(io.BytesIO(base64.b64decode(body["raw_npy"])))
    assert raw.shape == (8, 14, 14) and raw.dtype == np.float32
    assert raw[body["channels"][0]["index"]].mean() == pytest.approx(means[0], rel=1e-5)


def test_feature_maps_of_a_named_layer_as_json(client, digit_png):
    files = {"file": ("digit.png", digit_png, "image/png")}
    body = client.post("/models/tiny_digits/feature_maps?layer=conv&raw=json", files=files).json()
    assert body["layer"] == "conv" and np.asarray(body["raw"]).shape == (8, 14, 14)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [("layer=nothing", 422, "unknown_layer"), ("order=random", 422, "invalid_parameter")],
)
def test_bad_feature_map_requests_are_refused(client, digit_png, query, status, code):
    files = {"file": ("digit.png", digit_png, "image/png")}
    response = client.post(f"/models/tiny_digits/feature_maps?{query}", files=files)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_feature_maps_need_an_image(client):
    response = client.post("/models/tiny_digits/feature_maps", content=b"{}",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_parameter"),
        ({"class": 3, "channel": 1}, "invalid_parameter"),
        ({"class": 3, "layer": "relu"}, "invalid_parameter"),
        ({"class": 10}, "invalid_target"),
        ({"class": "no such label"}, "invalid_target"),
        ({"channel": 8}, "invalid_parameter"),
        ({"layer": "nothing", "channel": 0}, "unknown_layer"),
        ({"class": 3, "steps": 0}, "invalid_parameter"),
        ({"class": 3, "steps": 10_000_000}, "invalid_parameter"),
        ({"class": 3, "jitter": -1}, "invalid_parameter"),
        ({"class": 3, "unknown": 1}, "invalid_parameter"),
    ],
)
def test_bad_activation_maximisation_requests_are_refused(client, body, code):
    response = client.post("/models/tiny_digits/activation_maximisation", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"class": "\xff"}', "application/json", 400, "malformed_body"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "malformed_body"),
        (b"not json", "application/json", 400, "malformed_body"),
        (b'{"class": ' + b"7" * 5000 + b"}", "application/json", 400, "malformed_body"),
        (b'{"class": 3}', "text/plain", 415, "unsupported_media_type"),
        (b'{"class": 3, "npy": 0}', "application/json", 422, "invalid_parameter"),
        (b'{"class": null, "channel": 0}', "application/json", 422, "invalid_parameter"),
        (b"[1, 2]", "application/json", 422, "invalid_parameter"),
    ],
    ids=["not utf-8", "deeply nested", "not json", "5000 digits", "not json type",
         "0 for false", "null class", "not an object"],
)  # fmt: skip
def test_an_activation_maximisation_body_that_is_not_the_request_gets_the_documented_code(
    client, body, content_type, status, code
):
    response = client.post(
        "/models/tiny_digits/activation_maximisation",
        content=body,
        headers={"content-type": content_type},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
