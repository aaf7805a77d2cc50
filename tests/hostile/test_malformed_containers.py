"""Malformed containers against a real server: truncated headers and seeded damage to valid
files of every allowed format, by every route that decodes images. Never a 5xx; always the
documented status, code and shape; memory stays bounded."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.hostile.conftest import error_code, measured
from tests.hostile.images import mutations, sample_images

PER_FORMAT = 24
PATHS = ("/predict?model=cifar_resnet", "/explain/grad_cam?model=mnist_cnn")  # in turn
IMAGE_ANSWERS = {200, 415, 422}  # decoded, not an allowed format, undecodable/too large
TRUNCATED = {
    "png signature": b"\x89PNG\r\n\x1a\n",
    "png cut inside its header": sample_images()["png_rgb"][:20],
    "jpeg start of image": b"\xff\xd8\xff",
    "gif header": b"GIF89a\x10\x00\x10\x00",
    "webp riff": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "bmp magic": b"BM" + bytes(12),
}


def post(base: str, path: str, image: bytes) -> httpx.Response:
    return httpx.post(base + path, content=image, headers={"content-type": "image/png"}, timeout=60)


@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_a_truncated_container_is_undecodable(hostile, name):
    answer = post(hostile.base, "/predict", TRUNCATED[name])
    assert (answer.status_code, error_code(answer)) == (422, "undecodable_image")


@pytest.mark.parametrize("name", sorted(sample_images()))
def test_damaged_files_get_image_answers_on_predict_and_explain(hostile, figures, name):
    damaged = mutations(sample_images()[name], PER_FORMAT, seed=sum(name.encode()))
    requests = [(PATHS[i % 2], image) for i, image in enumerate(damaged)]
    attack = f"{PER_FORMAT} damaged {name} files"
    with measured(hostile, figures, attack), ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda pair: post(hostile.base, *pair), requests))
    for answer in answers:
        assert answer.status_code in IMAGE_ANSWERS, answer.text
        if answer.status_code != 200:
            assert error_code(answer) in {
                "undecodable_image", "unsupported_media_type", "too_many_pixels",
                "extreme_aspect_ratio", "empty_image",
            }  # fmt: skip


def test_damaged_files_as_v2_bytes_get_the_protocols_answers(hostile):
    damaged = mutations(sample_images()["png_rgb"], 24, seed=7)
    for image in damaged:
        tensor = {"name": "input", "shape": [1], "datatype": "BYTES"}
        tensor["data"] = [base64.b64encode(image).decode()]
        answer = httpx.post(
            hostile.base + "/v2/models/mnist_cnn/infer", json={"inputs": [tensor]}, timeout=60
        )
        assert answer.status_code in IMAGE_ANSWERS, answer.text
        if answer.status_code != 200:
            assert isinstance(answer.json()["error"], str)
