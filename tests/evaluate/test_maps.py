"""The baseline maps: random noise at a method's own grid, upsampled as the CAMs are, and the
centred Gaussian; and each method's grid as its type states it."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluate.cases import image_cases
from app.evaluate.maps import centre_map, grid_name, method_units, random_maps
from app.explain.registry import METHODS
from app.imaging.smoothing import resize_bilinear
from tests.evaluate.conftest import noise_images, tiny_rgb


def test_a_random_map_at_the_input_grid_is_noise_per_pixel():
    maps = random_maps(np.random.default_rng(0), (16, 16), (16, 16), 2)
    np.testing.assert_array_equal(
        maps, np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
    )


def test_a_random_map_at_a_layer_grid_is_upsampled_as_a_cam_is():
    maps = random_maps(np.random.default_rng(1), (4, 4), (32, 32), 3)
    expected = resize_bilinear(np.random.default_rng(1).random((3, 4, 4)), 32, 32)
    np.testing.assert_allclose(maps, expected)
    assert maps.shape == (3, 32, 32)


def test_the_centre_map_peaks_in_the_middle_and_is_symmetric():
    centre = centre_map((9, 7))
    assert np.unravel_index(np.argmax(centre), centre.shape) == (4, 3)
    np.testing.assert_allclose(centre, centre[::-1, ::-1])
    assert centre[4, 3] == pytest.approx(1.0)
    sigma = 0.25 * 7
    assert centre[4, 0] == pytest.approx(np.exp(-(3**2) / (2 * sigma**2)))


def test_baselines_are_named_by_their_grid():
    assert grid_name((32, 32), (32, 32)) == "random pixels"
    assert grid_name((4, 4), (32, 32)) == "random 4x4"


@pytest.mark.parametrize(
    ("key", "grid"),
    [
        ("saliency", (16, 16)),
        ("integrated_gradients", (16, 16)),
        ("grad_cam", (8, 8)),  # the conv layer's resolution (stride 2)
        ("score_cam", (8, 8)),
        ("guided_grad_cam", (16, 16)),  # guided backpropagation's detail
        ("occlusion", (15, 15)),  # window 2, stride 1
        ("rise", (7, 7)),
    ],
)
def test_each_method_states_the_grid_its_map_is_made_at(key, grid):
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    method = METHODS[key]
    assert method.native_grid(case.for_method(method), method.Params()) == grid


def test_superpixel_methods_get_one_random_value_per_superpixel():
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    method = METHODS["lime"]
    units = method_units(method, case.for_method(method))
    assert units.name == "random superpixels" and units.grid is None
    maps = units.draw(np.random.default_rng(0), 2)
    assert maps.shape == (2, 16, 16)
    for label in np.unique(units.segments):
        inside = maps[:, units.segments == label]  # (2, pixels of the segment)
        assert np.all(inside == inside[:, :1])


def test_grid_methods_get_their_grid_as_units():
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    units = method_units(METHODS["grad_cam"], case.for_method(METHODS["grad_cam"]))
    assert (units.name, units.grid, units.segments) == ("random 8x8", (8, 8), None)
