"""app/imaging/tensors.py: mode conversions, shrinking, resizing and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.imaging.decode import ImageLimits, decode_image
from app.imaging.pixels import to_rgb
from app.imaging.tensors import to_input_array, to_model_input
from app.store.manifest import DigitNormalisation, InputSpec, Preprocess
from tests.conftest import encode, png_bytes

LIMITS = ImageLimits(max_pixels=1_000_000, max_side=2000, max_aspect_ratio=10)
RGB = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)


def test_sixteen_bit_grey_is_scaled_not_clipped():
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    image = decode_image(png_bytes(Image.fromarray(ramp)), LIMITS)
    rgb = np.asarray(to_rgb(image, "black"))
    np.testing.assert_array_equal(rgb[..., 0], np.arange(256).reshape(16, 16))


def test_cmyk_becomes_rgb_close_to_the_original():
    rgb = Image.fromarray(RGB)
    image = decode_image(encode(rgb.convert("CMYK"), "JPEG", quality=95), LIMITS)
    assert image.mode == "CMYK"
    converted = np.asarray(to_rgb(image, "black"), dtype=np.int16)
    assert np.abs(converted - RGB).mean() < 12


@pytest.mark.parametrize(("background", "level"), [("black", 0), ("white", 255)])
def test_transparent_pixels_take_the_models_background(background, level):
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[2:6, 2:6] = (200, 100, 50, 255)
    rgb = np.asarray(to_rgb(Image.fromarray(rgba, "RGBA"), background))
    assert tuple(rgb[0, 0]) == (level,) * 3
    assert tuple(rgb[3, 3]) == (200, 100, 50)


def test_a_dark_drawing_on_a_transparent_canvas_gets_a_light_background():
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[2:6, 4, 3] = 255  # opaque black strokes, transparent elsewhere
    rgb = np.asarray(to_rgb(Image.fromarray(rgba, "RGBA"), "contrast"))
    assert rgb[0, 0, 0] == 255 and rgb[3, 4, 0] == 0


def test_a_palette_image_with_a_transparent_index_is_composited():
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.info["transparency"] = 1
    rgb = np.asarray(to_rgb(decode_image(png_bytes(palette, transparency=1), LIMITS), "white"))
    assert tuple(rgb[0, 0]) == (255, 255, 255)


def test_a_large_photograph_of_a_digit_costs_what_a_small_one_costs():
    spec = InputSpec(name="x", channels=1, height=28, width=28)
    preprocess = Preprocess(mean=(0.0,), std=(1.0,), digit=DigitNormalisation())
    paper = np.full((4000, 4000), 230, dtype=np.uint8)
    paper[1000:3000, 1800:2100] = 20  # a dark bar, 2000 x 300 pixels
    tensor = to_input_array(Image.fromarray(paper), spec, preprocess)
    small = to_input_array(Image.fromarray(paper[::20, ::20].copy()), spec, preprocess)
    np.testing.assert_allclose(tensor, small, atol=0.15)


def test_a_digit_canvas_is_padded_to_a_larger_input():
    spec = InputSpec(name="x", channels=1, height=32, width=32)
    preprocess = Preprocess(mean=(0.0,), std=(1.0,), digit=DigitNormalisation())
    paper = np.full((80, 80), 255, dtype=np.uint8)
    paper[10:60, 30:38] = 0  # a dark bar on white
    tensor = to_input_array(Image.fromarray(paper), spec, preprocess)
    assert tensor.shape == (1, 32, 32) and tensor.dtype == np.float32
    assert tensor[0, :2].max() == 0


def test_centre_crop_keeps_the_middle_and_normalises():
    spec = InputSpec(name="x", channels=3, height=8, width=8)
    preprocess = Preprocess(
        resize="center_crop", resize_shorter_to=8, mean=(0.5,) * 3, std=(0.5,) * 3
    )
    wide = np.zeros((8, 24, 3), dtype=np.uint8)
    wide[:, 8:16] = 255
    tensor = to_input_array(Image.fromarray(wide), spec, preprocess)
    assert tensor.shape == (3, 8, 8)
    np.testing.assert_allclose(tensor, 1.0)


def test_nhwc_models_get_channels_last():
    spec = InputSpec(name="x", channels=3, height=4, width=6, layout="NHWC")
    tensor = to_input_array(Image.fromarray(RGB), spec, Preprocess(mean=(0,) * 3, std=(1,) * 3))
    assert tensor.shape == (4, 6, 3)


def test_a_grey_model_gets_one_channel_from_a_colour_image():
    spec = InputSpec(name="x", channels=1, height=5, width=5)
    tensor = to_input_array(Image.fromarray(RGB), spec, Preprocess(mean=(0,), std=(1,)))
    assert tensor.shape == (1, 5, 5) and 0 <= tensor.min() <= tensor.max() <= 1


IMAGENET_SPEC = InputSpec(name="x", channels=3, height=224, width=224)
IMAGENET_CROP = Preprocess(
    resize="center_crop", resize_shorter_to=256, mean=(0.5,) * 3, std=(0.5,) * 3
)


def test_the_input_region_of_a_centre_crop_is_worked_out_by_hand():
    # 451x300 -> shorter side 256: 385x256 (451 * 256 / 300 = 384.85); crop 224 at (80, 16);
    # back in the picture's pixels: x * 451 / 385, y * 300 / 256
    picture = Image.fromarray(np.zeros((300, 451, 3), np.uint8))
    _, region = to_model_input(picture, IMAGENET_SPEC, IMAGENET_CROP)
    assert (region.width, region.height) == (451, 300)
    assert region.box == (93.71, 18.75, 356.11, 281.25)


def test_the_input_region_is_in_the_pixels_of_the_picture_as_given_even_when_shrunk():
    picture = Image.fromarray(np.zeros((3000, 4510, 3), np.uint8))  # reduced 8x first
    _, region = to_model_input(picture, IMAGENET_SPEC, IMAGENET_CROP)
    assert (region.width, region.height) == (4510, 3000)
    assert region.box == pytest.approx((937.1, 187.5, 3561.1, 2812.5), abs=2)


def test_the_input_region_of_a_stretch_or_a_digit_model_is_the_whole_picture():
    stretch = Preprocess(mean=(0.0,) * 3, std=(1.0,) * 3)
    _, region = to_model_input(Image.fromarray(RGB), InputSpec(name="x", channels=3,
                               height=8, width=8), stretch)  # fmt: skip
    assert region.box == (0.0, 0.0, 32.0, 24.0)
    digit = Preprocess(mean=(0.0,), std=(1.0,), digit=DigitNormalisation())
    spec = InputSpec(name="x", channels=1, height=28, width=28)
    _, region = to_model_input(Image.fromarray(RGB).resize((1600, 1200)), spec, digit)
    assert (region.width, region.height, region.box) == (1600, 1200, (0.0, 0.0, 1600.0, 1200.0))


def test_the_input_region_follows_the_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 300 wide and 451 high, shown 451 wide
    stored = Image.fromarray(np.zeros((451, 300, 3), np.uint8))
    picture = decode_image(encode(stored, "JPEG", exif=exif), LIMITS)
    _, region = to_model_input(picture, IMAGENET_SPEC, IMAGENET_CROP)
    assert (region.width, region.height) == (451, 300)


def test_the_crop_shows_the_region_it_reports():
    ys, xs = np.mgrid[0:300, 0:451]  # red follows x, green follows y: each pixel says where
    picture = np.stack([xs * 255 / 450, ys * 255 / 299, np.full_like(xs, 128)], axis=2)
    tensor, region = to_model_input(
        Image.fromarray(picture.astype(np.uint8)), IMAGENET_SPEC, IMAGENET_CROP
    )
    shown = (tensor.transpose(1, 2, 0) * 0.5 + 0.5) * 255  # (224, 224, 3)
    left, top, right, bottom = region.box
    centres = (np.arange(224) + 0.5) / 224
    expected_x = (left + centres * (right - left) - 0.5) * 255 / 450
    expected_y = (top + centres * (bottom - top) - 0.5) * 255 / 299
    assert np.abs(shown[0, :, 0] - expected_x).max() < 1.5  # grey levels
    assert np.abs(shown[:, 0, 1] - expected_y).max() < 1.5
