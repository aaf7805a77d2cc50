"""Heatmaps as pictures: colour-map lookups, the palette picture and the overlay."""

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging.heatmap import (
    colour_picture,
    colourise,
    lookup_table,
    overlay,
    scale_unit,
)
from app.imaging.png import png_bytes


def heatmap(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(30, 40)).astype(np.float32)


def by_hand(values: np.ndarray, colormap: str, signed: bool = False) -> np.ndarray:
    """The colours of `values` worked out from the table: entry round(255 * unit value)."""
    indices = np.round(scale_unit(values, signed) * 255).astype(np.intp)
    return lookup_table(colormap)[indices]


@pytest.mark.parametrize("colormap", ["viridis", "inferno", "jet", "gray"])
def test_colourise_takes_each_pixels_entry_of_the_colour_map(colormap):
    values = heatmap()
    np.testing.assert_array_equal(colourise(values, colormap), by_hand(values, colormap))


def test_a_signed_map_puts_zero_at_the_middle_of_its_colour_map():
    values = np.array([[-2.0, 0.0, 1.0]], np.float32)
    np.testing.assert_array_equal(colourise(values, "bwr"), by_hand(values, "bwr", signed=True))
    np.testing.assert_array_equal(colourise(values, "bwr")[0, 1], lookup_table("bwr")[128])


def test_the_heatmap_picture_is_a_palette_picture_with_the_same_colours_enlarged():
    values = heatmap()
    picture = Image.open(io.BytesIO(png_bytes(colour_picture(values, "viridis"))))
    assert picture.mode == "P" and picture.size == (40 * 8, 30 * 8)  # shorter side >= 224
    rgb = np.asarray(picture.convert("RGB"))
    np.testing.assert_array_equal(rgb[::8, ::8], by_hand(values, "viridis"))


@pytest.mark.parametrize("alpha", [0.0, 0.35, 0.5, 1.0])
def test_the_overlay_blends_the_colours_over_the_picture_to_within_one_level(alpha):
    values = heatmap(1)
    base = np.random.default_rng(2).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    blended = np.asarray(overlay(base, values, "jet", alpha))[::8, ::8].astype(int)
    exact = (1 - alpha) * base + alpha * by_hand(values, "jet")
    assert np.abs(blended - exact).max() <= 1


def test_the_lookup_table_is_shared_and_read_only():
    assert lookup_table("viridis") is lookup_table("viridis")
    with pytest.raises(ValueError):
        lookup_table("viridis")[0, 0] = 1
