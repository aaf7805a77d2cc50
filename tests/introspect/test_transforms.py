"""Random warps for transformation robustness: what they show, and their adjoint."""

from __future__ import annotations

import numpy as np
import pytest

from app.introspect.transforms import random_warp, warp


def _image(shape=(2, 6, 6)) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 1, shape)


def test_the_plain_warp_shows_the_image_as_it_is():
    image = _image()
    np.testing.assert_allclose(warp((6, 6), (0, 0), 1.0, 0.0).apply(image, np.zeros(2)), image)


def test_a_whole_pixel_shift_moves_the_image_and_fills_what_it_uncovers():
    image = _image()
    moved = warp((6, 6), (1, -2), 1.0, 0.0).apply(image, np.array([7.0, 9.0]))
    np.testing.assert_allclose(moved[:, 1:, :4], image[:, :5, 2:])
    assert (moved[0, 0] == 7.0).all() and (moved[1, :, 4:] == 9.0).all()


def test_a_quarter_turn_of_a_square_image_is_a_rotation_by_90_degrees():
    image = _image((1, 5, 5))
    turned = warp((5, 5), (0, 0), 1.0, 90.0).apply(image, np.zeros(1))
    np.testing.assert_allclose(turned[0], np.rot90(image[0], k=1), atol=1e-12)


def test_doubling_the_scale_reads_the_centre_at_half_the_distance():
    image = np.zeros((1, 9, 9))
    image[0, 4, 6] = 1.0  # two pixels right of the centre
    grown = warp((9, 9), (0, 0), 2.0, 0.0).apply(image, np.zeros(1))
    assert grown[0, 4, 8] == pytest.approx(1.0) and grown[0, 4, 7] == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(3))
def test_the_adjoint_passes_the_dot_product_test(seed):
    rng = np.random.default_rng(seed)
    chosen = random_warp(rng, (7, 9), jitter=2, scale=0.2, degrees=30)
    image, gradient = rng.normal(0, 1, (3, 7, 9)), rng.normal(0, 1, (3, 7, 9))
    forward = (chosen.apply(image, np.zeros(3)) * gradient).sum()
    assert forward == pytest.approx((image * chosen.adjoint(gradient)).sum(), rel=1e-12)
