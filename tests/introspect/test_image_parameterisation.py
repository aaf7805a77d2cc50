"""The map from activation maximisation's parameters to pixels, and its chain rule back,
against torch autograd of the same map written in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from app.introspect.image_parameterisation import Parameterisation


def torch_pixels(image: Parameterisation, theta: torch.Tensor) -> torch.Tensor:
    """The same map, by torch's FFT and autograd-able ops."""
    if image.kind == "fourier":
        scale = torch.from_numpy(image.scale())
        spatial = torch.fft.irfft2(torch.complex(theta[0], theta[1]) * scale,
                                   s=image.shape[1:], norm="ortho")  # fmt: skip
    else:
        spatial = theta
    mixed = torch.einsum("dc,chw->dhw", torch.from_numpy(image.colours()), spatial)
    return torch.sigmoid(mixed)


@pytest.mark.parametrize("kind", ["fourier", "pixel"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 7, 9)])
def test_the_pixels_and_their_chain_rule_equal_torch_autograd(kind, shape):
    image = Parameterisation(kind, shape)
    rng = np.random.default_rng(0)
    theta = rng.normal(0, 0.5, image.theta_shape)
    weights = rng.normal(0, 1, shape)
    tensor = torch.tensor(theta, requires_grad=True)
    pixels = torch_pixels(image, tensor)
    (pixels * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(image.pixels(theta), pixels.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(image.backward(theta, weights), tensor.grad.numpy(), atol=1e-10)


def test_the_start_is_grey_and_colours_are_decorrelated_only_for_rgb():
    image = Parameterisation("fourier", (3, 16, 16))
    pixels = image.pixels(image.initial(np.random.default_rng(0)))
    assert np.abs(pixels - 0.5).max() < 0.05
    assert not np.allclose(image.colours(), np.eye(3))
    assert np.array_equal(Parameterisation("fourier", (1, 8, 8)).colours(), np.eye(1))
    assert np.array_equal(Parameterisation("fourier", (3, 8, 8), False).colours(), np.eye(3))


@pytest.mark.parametrize("kind", ["fourier", "pixel"])
def test_blurring_the_parameters_blurs_the_image_as_a_wrapped_gaussian(kind):
    image = Parameterisation(kind, (1, 32, 32))
    theta = image.initial(np.random.default_rng(1)) * 100
    blurred = image.spatial(image.blurred(theta, 2.0))
    expected = gaussian_filter(image.spatial(theta), (0, 2.0, 2.0), mode="wrap", truncate=8)
    np.testing.assert_allclose(blurred, expected, atol=1e-3 * np.abs(expected).max())
