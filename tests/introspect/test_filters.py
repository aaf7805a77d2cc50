"""Filters: finding the weights, picking the mode, normalising, the grid's layout."""

import numpy as np
import pytest

from app.introspect.filters import (
    MAX_PAIR_TILES,
    FilterError,
    conv_node,
    conv_weights,
    filter_grid,
    normalise_filters,
    pick_mode,
)
from app.introspect.grid import GROUP_GAP, groups_per_row
from tests.tiny_models import tiny_cnn


def test_each_filter_is_normalised_on_its_own():
    weights = np.stack([np.linspace(-1, 1, 18), np.linspace(5, 50, 18)]).reshape(2, 2, 3, 3)
    unit = normalise_filters(weights)
    assert unit.reshape(2, -1).min(axis=1).tolist() == [0, 0]
    assert unit.reshape(2, -1).max(axis=1).tolist() == [1, 1]
    assert np.allclose(unit[0], unit[1])


def test_a_constant_filter_is_mid_grey():
    assert np.all(normalise_filters(np.full((1, 1, 3, 3), 7.0)) == 0.5)


@pytest.mark.parametrize(
    ("shape", "reads_image", "requested", "expected"),
    [
        ((8, 3, 3, 3), True, "auto", "rgb"),
        ((8, 3, 3, 3), False, "auto", "each"),
        ((8, 1, 3, 3), True, "auto", "each"),
        ((128, MAX_PAIR_TILES // 64, 3, 3), False, "auto", "mean"),
        ((8, 3, 3, 3), True, "mean", "mean"),
    ],
)
def test_the_mode_is_rgb_for_a_colour_first_layer_else_pairs_else_the_mean(
    shape, reads_image, requested, expected
):
    assert pick_mode(np.zeros(shape), reads_image, requested) == expected


def test_rgb_is_refused_for_a_layer_that_does_not_read_a_colour_image():
    with pytest.raises(FilterError, match="rgb"):
        pick_mode(np.zeros((8, 16, 3, 3)), False, "rgb")


@pytest.mark.parametrize(
    ("mode", "size"),
    [("each", (4 * 26 + 2 + GROUP_GAP, 2 * 26 + 2)), ("mean", (2 * 26 + 2, 2 * 26 + 2))],
)
def test_pairs_keep_each_filter_together_and_the_mean_is_a_square_grid(mode, size):
    picture = filter_grid(np.random.default_rng(0).standard_normal((4, 2, 3, 3)), mode)
    assert picture.size == size  # 3x3 kernels magnified 8 times, 2 px gaps; 2 filters a row


@pytest.mark.parametrize("shape", [(32, 1, 3, 3), (64, 32, 3, 3), (6, 1, 5, 5), (16, 6, 5, 5),
                                   (120, 16, 5, 5), (1, 1, 3, 3), (512, 1, 3, 3)])  # fmt: skip
def test_the_pairs_grid_is_never_much_taller_or_wider_than_square(shape):
    width, height = filter_grid(np.zeros(shape), "each").size
    assert 1 / 2.2 <= width / height <= 2.2, (width, height)


def test_rows_hold_whole_filters_as_many_as_make_the_grid_squarest():
    assert groups_per_row(32, 1) == 6  # 6 x 6 (the last row short)
    assert groups_per_row(64, 32) == 2  # 64 x 32 tiles, not 32 x 64
    assert groups_per_row(3, 1, tile_aspect=3.0) == 1  # wide tiles stack


def test_rgb_tiles_show_the_three_input_channels_as_colours():
    weights = np.zeros((1, 3, 3, 3))
    weights[0, 0] = 1.0  # a red-only filter
    picture = np.asarray(filter_grid(weights, "rgb"))
    assert picture[10, 10].tolist() == [255, 0, 0]


def test_a_conv_is_found_by_output_or_node_name_and_its_weights_read():
    model = tiny_cnn(3, 16, 4)
    model.graph.node[0].name = "first_conv"
    assert conv_node(model, "conv") is conv_node(model, "first_conv")
    assert conv_weights(model, conv_node(model, "conv")).shape == (8, 3, 3, 3)


def test_a_layer_that_is_not_a_conv_is_refused():
    with pytest.raises(FilterError, match="Conv"):
        conv_node(tiny_cnn(3, 16, 4), "relu")
