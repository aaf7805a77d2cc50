"""Max-sensitivity against Captum's `sensitivity_max` given the same noisy copies (Frobenius
norm, divided by the map's own norm), with a gradient method and a CAM on the tiny model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from captum.metrics import sensitivity_max

from app.evaluate.cases import image_cases
from app.evaluate.max_sensitivity import input_noise, max_sensitivity
from app.evaluate.run import map_of
from app.explain.registry import METHODS
from tests.evaluate.conftest import noise_images, tiny_rgb


@pytest.mark.parametrize("key", ["saliency", "grad_cam"])
def test_max_sensitivity_equals_captums_with_the_same_noise(key):
    (case,) = image_cases(tiny_rgb(), noise_images(1, seed=4), "predicted")
    method = METHODS[key]
    given = case.for_method(method)
    noise = input_noise(np.random.default_rng(0), case, 6, 0.05)
    heatmap = map_of(method, given)

    def explanation(inputs: torch.Tensor | tuple[torch.Tensor]) -> tuple[torch.Tensor]:
        batch = inputs[0] if isinstance(inputs, tuple) else inputs  # Captum sends both
        rows = [dataclasses.replace(given, image=row[None].numpy()) for row in batch]
        return (torch.from_numpy(np.stack([map_of(method, row) for row in rows])),)

    def perturb(inputs: torch.Tensor, radius: float) -> torch.Tensor:
        return inputs + torch.from_numpy(noise)

    reference = sensitivity_max(
        explanation, torch.from_numpy(case.nchw()), perturb, n_perturb_samples=6
    )
    ours = max_sensitivity(lambda g: map_of(method, g), given, heatmap, noise)
    assert ours == pytest.approx(float(reference), rel=1e-5)
    assert ours > 0


def test_the_noise_is_uniform_within_the_radius_in_pixel_units():
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    noise = input_noise(np.random.default_rng(1), case, 64, 0.02)
    pixels = noise * 0.25  # std 0.25: input units back to pixel units
    assert noise.shape == (64, 3, 16, 16)
    assert np.abs(pixels).max() <= 0.02 + 1e-7
    assert np.abs(pixels).max() > 0.019


def test_a_map_that_is_zero_has_no_sensitivity():
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    noise = np.zeros((2, 3, 16, 16), dtype=np.float32)
    zero = np.zeros((16, 16))
    assert max_sensitivity(lambda g: zero, case.given, zero, noise) is None
