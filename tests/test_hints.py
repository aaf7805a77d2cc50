"""Hints that a picture does not suit the model: measured on the shipped samples (MNIST
digits, CIFAR-10 images, photographs) and canvas drawings, sent to the shipped models."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.config import PROJECT_ROOT
from app.imaging.hints import GREY_MODES, _small_pixels, colourfulness, picture_stats
from tests.conftest import png_bytes

SAMPLES = PROJECT_ROOT / "static" / "samples"
DIGITS = sorted((SAMPLES / "mnist_cnn").glob("*.png"))
PHOTOS = sorted((SAMPLES / "efficientnet_lite0").glob("*.jpg"))
COLOUR_PHOTOS = [p for p in PHOTOS if p.stem not in ("cameraman", "clock", "hubble")]
CIFAR = sorted((SAMPLES / "cifar_resnet").glob("*.png"))
CHELSEA = SAMPLES / "efficientnet_lite0" / "chelsea.jpg"


def hint_codes(client, model: str, data: bytes) -> list[str]:
    response = client.post(
        f"/predict?model={model}", content=data, headers={"content-type": "image/png"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hints"] == body["results"][0]["hints"]
    return [hint["code"] for hint in body["hints"]]


def canvas_drawing(ink: tuple[int, ...], paper: tuple[int, ...]) -> bytes:
    """A '7' drawn with a 22-pixel pen on a 280x280 canvas, as the UI's drawing pad makes it."""
    canvas = Image.new("RGBA", (280, 280), paper)
    pen = ImageDraw.Draw(canvas)
    pen.line([(60, 50), (220, 50), (120, 240)], fill=ink, width=22, joint="curve")
    return png_bytes(canvas)


WHITE_ON_TRANSPARENT = canvas_drawing((255, 255, 255, 255), (0, 0, 0, 0))
BLACK_ON_WHITE = canvas_drawing((0, 0, 0, 255), (255, 255, 255, 255))


@pytest.mark.parametrize("digit", DIGITS, ids=lambda p: p.stem)
def test_an_mnist_digit_sent_to_the_photo_model_gets_the_drawing_hint(shipped_client, digit):
    assert hint_codes(shipped_client, "efficientnet_lite0", digit.read_bytes()) == [
        "drawing_for_photo_model"
    ]
    assert hint_codes(shipped_client, "mnist_cnn", digit.read_bytes()) == []


@pytest.mark.parametrize("drawing", [WHITE_ON_TRANSPARENT, BLACK_ON_WHITE], ids=["pad", "paper"])
def test_a_drawn_digit_gets_the_drawing_hint_from_photo_models_only(shipped_client, drawing):
    assert hint_codes(shipped_client, "efficientnet_lite0", drawing) == ["drawing_for_photo_model"]
    assert hint_codes(shipped_client, "cifar_resnet", drawing) == ["drawing_for_photo_model"]
    assert hint_codes(shipped_client, "lenet5", drawing) == []


@pytest.mark.parametrize("photo", COLOUR_PHOTOS, ids=lambda p: p.stem)
def test_a_colour_photo_sent_to_a_digit_model_gets_the_photo_hint(shipped_client, photo):
    assert hint_codes(shipped_client, "mnist_cnn", photo.read_bytes()) == ["photo_for_digit_model"]
    assert hint_codes(shipped_client, "lenet5", photo.read_bytes()) == ["photo_for_digit_model"]


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.stem)
def test_no_photo_gets_a_hint_from_the_photo_model(shipped_client, photo):
    assert hint_codes(shipped_client, "efficientnet_lite0", photo.read_bytes()) == []


@pytest.mark.parametrize("image", CIFAR, ids=lambda p: p.stem)
def test_no_cifar_image_gets_a_hint_from_the_cifar_model(shipped_client, image):
    assert hint_codes(shipped_client, "cifar_resnet", image.read_bytes()) == []


def test_a_digit_in_coloured_ink_or_a_grey_photo_gives_a_digit_model_no_hint(shipped_client):
    blue = canvas_drawing((20, 40, 200, 255), (255, 255, 255, 255))
    assert hint_codes(shipped_client, "mnist_cnn", blue) == []
    for grey in ("cameraman", "clock"):  # grey: may be a photo of a digit on paper
        data = (SAMPLES / "efficientnet_lite0" / f"{grey}.jpg").read_bytes()
        assert hint_codes(shipped_client, "mnist_cnn", data) == []


def test_each_image_of_a_batch_gets_its_own_hints(shipped_client):
    files = [("file", ("d.png", DIGITS[0].read_bytes(), "image/png")),
             ("file", ("p.jpg", CHELSEA.read_bytes(), "image/jpeg"))]  # fmt: skip
    body = shipped_client.post("/predict?model=efficientnet_lite0", files=files).json()
    codes = [[hint["code"] for hint in result["hints"]] for result in body["results"]]
    assert codes == [["drawing_for_photo_model"], []]
    assert "was trained on photographs" in body["results"][0]["hints"][0]["message"]


def test_the_explain_response_carries_the_hints(shipped_client):
    response = shipped_client.post(
        "/explain/grad_cam?model=mnist_cnn",
        content=CHELSEA.read_bytes(),
        headers={"content-type": "image/jpeg"},
    )
    assert [hint["code"] for hint in response.json()["hints"]] == ["photo_for_digit_model"]


def test_the_statistics_of_hand_made_pictures_are_as_worked_out():
    half = np.zeros((64, 64, 3), np.uint8)
    half[:, 32:] = 255  # half black, half white
    stats = picture_stats(Image.fromarray(half), "black")
    assert stats.colourfulness == 0 and stats.tonal_span == 255
    assert stats.near_binary == 1.0 and stats.background == 0.5
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 200  # rg = 200, yb = 100 everywhere: 0.3 * hypot(200, 100)
    assert picture_stats(Image.fromarray(red), "black").colourfulness == pytest.approx(67.08, 1e-3)
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))  # every grey level once a row
    stats = picture_stats(Image.fromarray(ramp), "black")
    assert stats.near_binary == pytest.approx(0.5, abs=0.02) and stats.background == 0.03125


def test_the_openapi_description_shows_the_hints(shipped_client):
    schemas = shipped_client.get("/openapi.json").json()["components"]["schemas"]
    assert {"code", "message"} <= set(schemas["Hint"]["properties"])
    assert "hints" in schemas["PredictResponse"]["properties"]
    assert "hints" in schemas["ImageResult"]["properties"]


def grey_mode_picture(mode: str) -> Image.Image:
    """Random grey levels (and random transparency) in `mode`."""
    rng = np.random.default_rng(len(mode))
    levels = rng.integers(0, 256, (40, 30), dtype=np.uint8)
    grey = Image.fromarray(levels)
    if mode == "LA":
        alpha = Image.fromarray(rng.integers(0, 256, (40, 30), dtype=np.uint8))
        return Image.merge("LA", (grey, alpha))
    if mode.startswith("I;16"):
        wide = (levels.astype(np.uint16) * 257).astype(">u2" if mode == "I;16B" else "<u2")
        return Image.frombytes(mode, grey.size, wide.tobytes())
    return grey.convert(mode)


@pytest.mark.parametrize("mode", sorted(GREY_MODES))
@pytest.mark.parametrize("background", ["black", "white", "contrast"])
def test_a_picture_in_a_grey_mode_has_no_colour_so_digit_models_skip_its_hints(mode, background):
    picture = grey_mode_picture(mode)
    assert picture.mode == mode
    assert colourfulness(_small_pixels(picture, background)) == 0.0


def test_a_colour_mode_is_not_taken_for_grey():
    assert GREY_MODES.isdisjoint({"RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"})
