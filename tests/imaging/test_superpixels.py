"""Superpixels: SLIC follows colour edges and gives connected segments; the grid and the
connected-piece labelling, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.config import PROJECT_ROOT
from app.imaging.superpixels import components, connected, grid_segments, rgb_to_lab, slic


def _quadrants_and_a_disc(size: int = 64) -> np.ndarray:
    picture = np.zeros((size, size, 3), np.uint8)
    half = size // 2
    picture[:half, :half], picture[:half, half:] = (255, 0, 0), (0, 255, 0)
    picture[half:, :half], picture[half:, half:] = (0, 0, 255), (255, 255, 0)
    rows, cols = np.mgrid[:size, :size]
    picture[(rows - 40) ** 2 + (cols - 20) ** 2 < 100] = (255, 255, 255)
    return picture


def _is_connected(labels: np.ndarray) -> bool:
    return len(np.unique(components(labels))) == len(np.unique(labels))


def test_slic_superpixels_never_straddle_a_colour_edge():
    picture = _quadrants_and_a_disc()
    labels = slic(picture, 30)
    colours = picture.reshape(-1, 3) @ np.array([1, 256, 65536])
    for label in np.unique(labels):
        assert len(np.unique(colours[labels.ravel() == label])) == 1
    assert 15 <= labels.max() + 1 <= 40 and _is_connected(labels)


@pytest.mark.parametrize(("sample", "count"), [("cifar_resnet/cat_*.png", 50),
                                               ("mnist_cnn/3_*.png", 30)])  # fmt: skip
def test_slic_on_the_samples_gives_about_the_count_asked_for_all_connected(sample, count):
    path = next((PROJECT_ROOT / "static" / "samples").glob(sample))
    picture = np.asarray(Image.open(path).convert("RGB"))
    labels = slic(picture, count)
    assert count / 2 <= labels.max() + 1 <= 1.5 * count
    assert _is_connected(labels) and set(np.unique(labels)) == set(range(labels.max() + 1))


def test_slic_of_noise_still_gives_connected_segments_of_some_size():
    noise = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    labels = slic(noise, 16)
    assert _is_connected(labels) and np.bincount(labels.ravel()).min() >= (64 * 64 / 16) / 4


def test_the_grid_has_near_square_cells_numbered_in_rows():
    np.testing.assert_array_equal(
        grid_segments(4, 6, 6), [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2],
                                 [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]]
    )  # fmt: skip
    assert grid_segments(28, 28, 50).max() + 1 == 49


def test_the_pieces_of_a_split_segment_become_segments_and_specks_join_a_neighbour():
    labels = np.array(
        [[0, 0, 1, 1, 0, 0],
         [0, 0, 1, 1, 0, 0],
         [2, 2, 2, 2, 2, 2],
         [2, 2, 2, 3, 2, 2]]
    )  # fmt: skip
    pieces = connected(labels, min_size=2)  # label 0's two halves part; the 3 speck joins 2
    np.testing.assert_array_equal(
        pieces, [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3]]
    )


def test_white_and_a_primary_colour_in_lab_as_published():
    lab = rgb_to_lab(np.array([[[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]]))
    np.testing.assert_allclose(lab[0, 0], [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(lab[0, 1], [53.24, 80.09, 67.20], atol=0.05)
