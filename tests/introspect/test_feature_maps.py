"""Feature maps: channel order, statistics, the labelled grid."""

import numpy as np
import pytest

from app.introspect.feature_maps import as_maps, channel_order, channel_stats, feature_grid


def maps() -> np.ndarray:
    activation = np.zeros((5, 4, 4), np.float32)  # (C, H, W), channel means 0, 3, 1, 4, 2
    for channel, mean in enumerate([0, 3, 1, 4, 2]):
        activation[channel] = mean
    activation[0, 0, 0] = 9.0
    return activation


def test_mean_order_sorts_channels_by_mean_activation_highest_first():
    assert channel_order(maps(), "mean").tolist() == [3, 1, 4, 2, 0]


def test_no_order_keeps_the_graph_order():
    assert channel_order(maps(), "none").tolist() == [0, 1, 2, 3, 4]


def test_channel_stats_follow_the_display_order():
    stats = channel_stats(maps(), np.array([3, 0]))
    assert stats == [
        {"index": 3, "mean": 4.0, "max": 4.0},
        {"index": 0, "mean": 9 / 16, "max": 9.0},
    ]


def test_the_grid_is_near_square_with_tiles_magnified_for_their_labels():
    picture = feature_grid(maps(), channel_order(maps(), "none"))
    assert picture.size == (3 * (48 + 2) + 2, 2 * (48 + 2) + 2)  # 3 columns, 2 rows


def test_each_tile_is_labelled_with_its_channel_index():
    plain = np.asarray(feature_grid(maps(), np.arange(5), "gray"))
    # A constant channel is black; its label is white text on a black box.
    assert plain[2:14, 2 + 50 : 2 + 60].max() > 200
    assert plain[30:48, 2 + 50 : 2 + 98].max() == 0


def test_dense_outputs_become_one_by_one_maps():
    assert as_maps(np.arange(6.0)).shape == (6, 1, 1)
    with pytest.raises(ValueError):
        as_maps(np.zeros((2, 2)))
