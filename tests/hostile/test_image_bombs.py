"""Image bombs against a real server: small files that declare or hold huge pictures. Each
answer is the documented status and code, a burst of valid large pictures stays under the
container's memory and gives it back, and a normal /predict is answered during the burst."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from tests.hostile.conftest import error_code, measured, predict_ok
from tests.hostile.images import (
    declared_bomb_png,
    encoded,
    flat_png,
    palette_png_with_long_trns,
    png,
    rle8_bmp,
    ztxt_bomb_png,
)

BURST = 40


@pytest.fixture(scope="module")
def large_png() -> bytes:
    """The issue's picture: 6324x6324 RGBA, about 155 KB, 160 MB of pixels."""
    return flat_png(6324, 6324)


def post_image(base: str, image: bytes, model: str = "cifar_resnet") -> httpx.Response:
    return httpx.post(
        f"{base}/predict?model={model}",
        content=image,
        headers={"content-type": "application/octet-stream"},
        timeout=120,
    )


def test_forty_large_pngs_at_once_stay_under_the_limit_and_the_memory_goes_back(
    hostile, figures, large_png, digit
):
    with measured(hostile, figures, "40 concurrent 6324x6324 RGBA PNGs") as attack:
        with ThreadPoolExecutor(BURST + 1) as pool:
            burst = [pool.submit(post_image, hostile.base, large_png) for _ in range(BURST)]
            normal = pool.submit(predict_ok, hostile, digit)
            answers = [future.result() for future in burst]
        attack.extra["normal_predict"] = normal.result()
        attack.extra["statuses"] = sorted({a.status_code for a in answers})
        attack.extra["served"] = sum(a.status_code == 200 for a in answers)
    assert normal.result() == 200
    assert attack.extra["served"] >= 2
    for answer in answers:
        assert answer.status_code in (200, 503)
        if answer.status_code == 503:
            assert error_code(answer) in ("overloaded", "deadline_exceeded")
            assert answer.headers["retry-after"]
    assert attack.after < attack.before + 96, attack  # the allocator gave the burst back


def gif_with_huge_screen() -> bytes:
    """A GIF whose logical screen is 60000x60000 around a 1x1 frame."""
    small = encoded(Image.new("P", (1, 1)), "GIF")
    return small[:6] + (60000).to_bytes(2, "little") * 2 + small[10:]


BOMBS = {
    # name: (the image, made when its test runs; expected status; expected code, None for 200)
    "declared 100000x100000 png": (declared_bomb_png, 422, "too_many_pixels"),
    "50000x800 png": (lambda: png(50000, 800, 1, 0, b""), 422, "extreme_aspect_ratio"),
    "60000x60000 gif screen": (gif_with_huge_screen, 422, "too_many_pixels"),
    "60 MP run-length bmp": (lambda: rle8_bmp(10000, 6000), 422, "too_many_pixels"),
    "16 MP webp (16 B/px to decode)": (lambda: webp(4000, 4000), 422, "too_many_pixels"),
    "palette png, 257 tRNS entries": (palette_png_with_long_trns, 422, "undecodable_image"),
    "short IDAT png": (lambda: png(2000, 2000, 8, 2, bytes(100)), 422, "undecodable_image"),
    "png with a 100 MB zTXt": (ztxt_bomb_png, 422, "undecodable_image"),
    "36 MP run-length bmp": (lambda: rle8_bmp(6000, 6000), 200, None),
    "35 MP jpeg": (lambda: jpeg(7000, 5000), 200, None),
    "36 MP 16-bit png": (lambda: flat_png(6000, 6000, "I;16"), 200, None),
    "40 MP palette png": (lambda: flat_png(6324, 6324, "P"), 200, None),
}  # fmt: skip


def webp(width: int, height: int) -> bytes:
    return encoded(Image.new("RGB", (width, height)), "WEBP")


def jpeg(width: int, height: int) -> bytes:
    return encoded(Image.new("RGB", (width, height), (9, 99, 199)), "JPEG")


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_gets_its_documented_answer_within_the_memory_limit(hostile, figures, name):
    make, status, code = BOMBS[name]
    image = make()
    with measured(hostile, figures, f"bomb: {name}"):
        answer = post_image(hostile.base, image, model="mnist_cnn")
    assert answer.status_code == status, answer.text
    if code is not None:
        assert error_code(answer) == code
