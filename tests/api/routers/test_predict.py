"""POST /predict on the tiny store: body forms, batches, parameters and every bad input."""

from __future__ import annotations

import base64
import zlib

import numpy as np
import pytest
from PIL import Image

from app.api.deps import services_of
from app.api.encoding import json_values
from app.api.routers.predict import ranked_values
from app.api.schemas import PredictResponse
from app.imaging.hints import Hint
from tests.conftest import encode, png_bytes
from tests.hostile.images import palette_png_with_long_trns


def test_predict_takes_a_multipart_file(client, digit_png):
    response = client.post("/predict", files={"file": ("one.png", digit_png, "image/png")})
    assert response.status_code == 200
    body = response.json()
    assert (body["model"], body["version"]) == ("tiny_digits", 2)
    probabilities = [p["probability"] for p in body["predictions"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(probabilities) == 5
    assert body["timing"]["total_ms"] >= body["timing"]["inference_ms"] >= 0


def test_predict_answers_the_same_for_raw_json_and_multipart(client, digit_png):
    multipart = client.post("/predict", files={"file": ("a.png", digit_png, "image/png")}).json()
    raw = client.post("/predict", content=digit_png, headers={"content-type": "image/png"}).json()
    encoded = base64.b64encode(digit_png).decode()
    as_json = client.post("/predict", json={"image": encoded}).json()
    data_url = client.post("/predict", json={"image": "data:image/png;base64," + encoded}).json()
    assert multipart["predictions"] == raw["predictions"] == as_json["predictions"]
    assert data_url["predictions"] == multipart["predictions"]


def test_several_files_make_one_batch_with_one_result_each(client, digit_png):
    blank = png_bytes(Image.new("L", (28, 28)))
    files = [("file", ("a.png", digit_png, "image/png")), ("file", ("b.png", blank, "image/png"))]
    body = client.post("/predict", files=files).json()
    assert len(body["results"]) == 2
    single = client.post("/predict", files={"file": ("b.png", blank, "image/png")}).json()
    np.testing.assert_allclose(
        [p["probability"] for p in body["results"][1]["predictions"]],
        [p["probability"] for p in single["predictions"]],
        rtol=1e-5,
    )


def test_a_named_version_and_top_k_are_honoured(client, digit_png):
    body = client.post(
        "/predict?model=tiny_digits&version=1&top_k=3",
        files={"file": ("a.png", digit_png, "image/png")},
    ).json()
    assert body["version"] == 1
    assert len(body["predictions"]) == 3


def test_top_k_over_the_class_count_returns_every_class(client, digit_png):
    body = client.post(
        "/predict?top_k=50", content=digit_png, headers={"content-type": "image/png"}
    )
    assert len(body.json()["predictions"]) == 10
    assert sum(p["probability"] for p in body.json()["predictions"]) == pytest.approx(1, abs=1e-5)


def test_an_rgb_model_takes_a_photo_sized_image(client):
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 90, 3), dtype=np.uint8))
    response = client.post(
        "/predict?model=tiny_rgb",
        content=encode(photo, "JPEG"),
        headers={"content-type": "image/jpeg"},
    )
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]][0].startswith("class_")


def _truncated(fmt: str) -> bytes:
    data = encode(
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)), fmt
    )
    return data[: len(data) // 2]


def _bomb_png() -> bytes:
    """A valid PNG header claiming 50,000 x 50,000 pixels, its data a few kilobytes."""
    width = height = 50_000

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return len(payload).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    row = b"\x00" + b"\x00" * (width // 8)
    data = zlib.compress(row * 64, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


PNG = "image/png"
BAD_INPUTS = [
    # (case, query, body, content type, status, code)
    ("zero bytes", "", b"", PNG, 422, "empty_image"),
    ("truncated PNG", "", _truncated("PNG"), PNG, 422, "undecodable_image"),
    ("truncated JPEG", "", _truncated("JPEG"), "image/jpeg", 422, "undecodable_image"),
    (
        "text sent as image/png",
        "",
        b"hello, this is not an image\n" * 4,
        PNG,
        415,
        "unsupported_media_type",
    ),
    (
        "SVG",
        "",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>',
        "image/svg+xml",
        415,
        "unsupported_media_type",
    ),
    (
        "PDF",
        "",
        b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF",
        "application/pdf",
        415,
        "unsupported_media_type",
    ),
    ("PDF sent as image/png", "", b"%PDF-1.7\n%%EOF", PNG, 415, "unsupported_media_type"),
    ("1x20000 image", "", png_bytes(Image.new("L", (1, 20000))), PNG, 422, "extreme_aspect_ratio"),
    ("decompression bomb", "", _bomb_png(), PNG, 422, "too_many_pixels"),
    ("unknown model", "?model=nope", b"x", PNG, 404, "model_not_found"),
    ("unknown version", "?version=9", b"x", PNG, 404, "version_not_found"),
    ("../ in the model name", "?model=../tiny_digits", b"x", PNG, 404, "model_not_found"),
    ("encoded ../ in the model name", "?model=..%2F..%2Fetc", b"x", PNG, 404, "model_not_found"),
    ("top_k of 0", "?top_k=0", b"x", PNG, 422, "invalid_parameter"),
    ("top_k of 10000", "?top_k=10000", b"x", PNG, 422, "invalid_parameter"),
    ("top_k not a number", "?top_k=many", b"x", PNG, 422, "invalid_parameter"),
    ("no content type", "", b"x", "", 415, "unsupported_media_type"),
    ("malformed JSON", "", b"{not json", "application/json", 400, "malformed_body"),
    ("JSON without image", "", b'{"picture": "x"}', "application/json", 400, "malformed_body"),
    (
        "invalid base64",
        "",
        b'{"image": "!!!not base64!!!"}',
        "application/json",
        400,
        "invalid_base64",
    ),
    ("multipart without file", "", None, "multipart/form-data", 400, "missing_file"),
]


@pytest.mark.parametrize(
    ("query", "body", "content_type", "status", "code"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_a_bad_input_gets_its_status_and_error_code(
    client, tiny_store, query, body, content_type, status, code
):
    if content_type == "multipart/form-data":
        response = client.post(
            "/predict" + query, data={"other": "field"}, files={"x": ("x.txt", b"x")}
        )
    else:
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/predict" + query, content=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    for leak in ("Traceback", 'File "', ".py", str(tiny_store), "site-packages"):
        assert leak not in response.text


def test_a_bad_image_in_a_batch_is_named_by_its_position(client, digit_png):
    files = [
        ("file", ("a.png", digit_png, PNG)),
        ("file", ("b.png", b"GIF89a broken", "image/gif")),
    ]
    response = client.post("/predict", files=files)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("Image 1:")


@pytest.mark.parametrize("extra", [1, 2, 10])
def test_too_many_images_in_one_request_is_one_422_however_many_more(
    client, digit_png, settings, extra
):
    count = settings.max_images_per_request + extra
    files = [("file", (f"{i}.png", digit_png, PNG)) for i in range(count)]
    response = client.post("/predict", files=files)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_images"


def test_a_palette_png_whose_transparency_outruns_its_palette_is_undecodable_everywhere(client):
    image = palette_png_with_long_trns()
    encoded = base64.b64encode(image).decode()
    v2_body = {"inputs": [{"name": "input", "shape": [1], "datatype": "BYTES", "data": [encoded]}]}
    answers = [
        client.post("/predict", content=image, headers={"content-type": PNG}),
        client.post("/explain/saliency", content=image, headers={"content-type": PNG}),
        client.post(
            "/models/tiny_digits/feature_maps", content=image, headers={"content-type": PNG}
        ),
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in answers] == [
        (422, "undecodable_image")
    ] * 3
    v2 = client.post("/v2/models/tiny_digits/infer", json=v2_body)
    assert v2.status_code == 422 and "could not be decoded" in v2.json()["error"]


def test_an_oversized_body_with_content_length_is_413(client, settings):
    body = b"\x89PNG\r\n\x1a\n" + b"\0" * settings.max_body_bytes
    response = client.post("/predict", content=body, headers={"content-type": PNG})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_an_oversized_chunked_body_without_content_length_is_413(client, settings):
    def chunks():
        yield b"\x89PNG\r\n\x1a\n"
        for _ in range(settings.max_body_bytes // 4096 + 2):
            yield b"\0" * 4096

    response = client.post("/predict", content=chunks(), headers={"content-type": PNG})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_an_unknown_route_answers_in_the_error_shape(client):
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_openapi_schema_documents_the_three_body_forms(client):
    schema = client.get("/openapi.json").json()
    content = schema["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json", "image/*"} <= set(content)
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [(b'{"images": []}', "missing_file"), (b"[" * 60_000, "malformed_body")],
    ids=["empty image list", "deeply nested JSON"],
)
def test_json_bodies_without_a_usable_image_are_400(client, body, code):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_an_oversized_chunked_json_body_to_a_parsed_route_is_413(client, settings):
    def chunks():
        yield b'{"class": 1, "padding": "'
        for _ in range(settings.max_body_bytes // 4096 + 2):
            yield b"x" * 4096

    response = client.post(
        "/models/tiny_digits/activation_maximisation",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("k", [1, 3, 50])
def test_the_answer_is_a_predict_response_written_as_pydantic_writes_it(client, k):
    model = services_of(client.app).registry.get("tiny_digits", None)
    outputs = np.random.default_rng(k).normal(size=(2, model.manifest.classes)).astype(np.float32)
    hint = Hint(code="photo_for_digit_model", message="A photo \u00e9.")
    values = ranked_values(model, outputs, k, (1.0, 1.25, 1.5), [[hint], []])
    document = PredictResponse.model_validate(values)  # the values fit the response model
    assert json_values(values).body == document.model_dump_json(by_alias=True).encode()
    assert (
        document.results[0].predictions
        == model.manifest.ranked(model.manifest.probabilities(outputs), k)[0]
    )
