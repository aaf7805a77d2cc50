"""Noisy linear imputation: a removed pixel is the weighted mean of its neighbours (worked out
by hand), and a whole removed region solves the authors' linear system (built here pixel by
pixel and solved densely, as their scipy code does sparsely)."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluate.imputation import NEIGHBOURS, impute, neighbour_sum

WEIGHTS = {(dy, dx): weight for dy, dx, weight in NEIGHBOURS}


def dense_solution(image: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """For each removed pixel i: sum_j w_ij x_i - sum_{removed j} w_ij x_j = sum_{kept j}
    w_ij x_j over its neighbours j inside the image; solved by numpy."""
    height, width = removed.shape
    unknown = {pixel: k for k, pixel in enumerate(zip(*np.nonzero(removed), strict=True))}
    system = np.zeros((len(unknown), len(unknown)))
    right = np.zeros((len(unknown), image.shape[0]))
    for (y, x), row in unknown.items():
        for (dy, dx), weight in WEIGHTS.items():
            ny, nx = y + dy, x + dx
            if not (0 <= ny < height and 0 <= nx < width):
                continue
            system[row, row] += weight
            if removed[ny, nx]:
                system[row, unknown[(ny, nx)]] -= weight
            else:
                right[row] += weight * image[:, ny, nx]
    solved = image.copy()
    values = np.linalg.solve(system, right)  # (n, C)
    for (y, x), row in unknown.items():
        solved[:, y, x] = values[row]
    return solved


def test_the_weights_are_a_sixth_beside_and_a_twelfth_diagonally_and_sum_to_one():
    assert WEIGHTS[(0, 1)] == WEIGHTS[(-1, 0)] == pytest.approx(1 / 6)
    assert WEIGHTS[(1, 1)] == WEIGHTS[(-1, -1)] == pytest.approx(1 / 12)
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_one_removed_pixel_becomes_the_weighted_mean_of_its_neighbours():
    image = np.arange(9, dtype=np.float64).reshape(1, 3, 3)  # 0 1 2 / 3 4 5 / 6 7 8
    removed = np.zeros((3, 3), dtype=bool)
    removed[1, 1] = True
    beside, diagonal = (1 + 3 + 5 + 7) / 6, (0 + 2 + 6 + 8) / 12
    assert impute(image, removed)[0, 1, 1] == pytest.approx(beside + diagonal)


def test_a_corner_pixel_weighs_only_the_neighbours_inside_the_image():
    image = np.array([[[9.0, 2.0], [4.0, 1.0]]])
    removed = np.array([[True, False], [False, False]])
    expected = (2.0 / 6 + 4.0 / 6 + 1.0 / 12) / (1 / 6 + 1 / 6 + 1 / 12)
    assert impute(image, removed)[0, 0, 0] == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_removed_regions_solve_the_authors_linear_system(seed):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(3, 12, 10))
    removed = rng.random((12, 10)) < 0.5
    removed[3:9, 2:7] = True  # a block with no kept pixel inside
    np.testing.assert_allclose(impute(image, removed), dense_solution(image, removed), atol=1e-4)


def test_kept_pixels_stay_and_the_noise_has_the_authors_sigma():
    rng = np.random.default_rng(2)
    image = rng.normal(size=(2, 64, 64))
    removed = rng.random((64, 64)) < 0.3
    plain = impute(image, removed)
    noisy = impute(image, removed, np.random.default_rng(3))
    np.testing.assert_array_equal(noisy[:, ~removed], image[:, ~removed])
    assert np.std((noisy - plain)[:, removed]) == pytest.approx(0.01, rel=0.05)


def test_nothing_removed_is_the_image_and_the_neighbour_sum_leaves_the_border_out():
    image = np.ones((1, 4, 4))
    np.testing.assert_array_equal(impute(image, np.zeros((4, 4), dtype=bool)), image)
    sums = neighbour_sum(np.ones((4, 4)))
    assert sums[1, 1] == pytest.approx(1.0)
    assert sums[0, 0] == pytest.approx(1 / 6 + 1 / 6 + 1 / 12)
