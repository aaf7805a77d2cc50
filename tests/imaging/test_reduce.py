"""app/imaging/reduce.py: band-by-band reduction equals Pillow's whole-image reduce."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.imaging import reduce
from app.imaging.reduce import shrink, to_eight_bit

RNG = np.random.default_rng(0)


@pytest.fixture
def narrow_bands(monkeypatch):
    """Bands of a few rows, so that every test image is reduced in many bands."""
    monkeypatch.setattr(reduce, "BAND_BYTES", 4 * 1203 * 24)


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L", "LA", "CMYK"])
def test_a_picture_reduced_in_bands_equals_one_reduced_whole(narrow_bands, mode):
    pixels = RNG.integers(0, 255, (997, 1203, 4), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGBA").convert(mode)
    banded = shrink(image, 100)
    assert banded.mode == image.mode
    np.testing.assert_array_equal(np.asarray(banded), np.asarray(image.reduce(12)))


def test_a_palette_picture_keeps_its_transparency_through_the_bands(narrow_bands):
    image = Image.fromarray(RNG.integers(0, 4, (997, 1203), dtype=np.uint8), "L").convert("P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    image.info["transparency"] = 2
    expected = image.convert("RGBA").reduce(12)
    np.testing.assert_array_equal(np.asarray(shrink(image, 100)), np.asarray(expected))


def test_sixteen_bit_grey_is_scaled_to_eight_bits_in_each_band(narrow_bands):
    wide = np.full((1000, 1200), 65535, dtype=np.uint16)
    wide[:, :600] = 0
    reduced = np.asarray(shrink(Image.fromarray(wide), 100))  # (84, 100)
    assert reduced.dtype == np.uint8 and reduced[:, :50].max() == 0 and reduced[:, 50:].min() == 255


@pytest.mark.parametrize(
    ("mode", "size", "longest", "expected"),
    [
        ("L", (6000, 300), 1024, (1200, 60)),
        ("P", (900, 900), 224, (225, 225)),
        ("RGB", (100, 80), 64, (100, 80)),
    ],
)
def test_large_pictures_are_reduced_by_a_whole_factor(mode, size, longest, expected):
    reduced = shrink(Image.new(mode, size), longest)
    assert reduced.size == expected and max(reduced.size) >= min(longest, max(size))


def test_float_grey_in_the_unit_range_is_stretched_to_eight_bits():
    pixels = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    assert np.asarray(to_eight_bit(Image.fromarray(pixels, "F"))).tolist() == [[0, 128, 255]]
