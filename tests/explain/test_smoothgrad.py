"""SmoothGrad equals Captum's NoiseTunnel(Saliency) given the same noise."""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import NoiseTunnel
from captum.attr import Saliency as CaptumSaliency

from app.explain.smoothgrad import SmoothGrad, SmoothGradParams, smoothgrad_from_noise
from tests.gradients.reference import relative_error


def test_smoothgrad_equals_captum_noise_tunnel_with_the_same_noise(case, monkeypatch):
    samples, sigma = 6, 0.3
    noise = np.random.default_rng(5).normal(0, sigma, (samples, *case.image.shape[1:]))
    noise = noise.astype(np.float32)
    ours = smoothgrad_from_noise(case.given([2]), noise)
    monkeypatch.setattr(torch, "normal", lambda mean, std: torch.from_numpy(noise))
    reference = NoiseTunnel(CaptumSaliency(case.net)).attribute(
        case.tensor(), nt_type="smoothgrad", nt_samples=samples, stdevs=sigma, target=2, abs=False
    )
    assert relative_error(ours[0], reference.detach().numpy()[0]) <= 1e-4


def test_smoothgrad_is_seeded_and_one_sample_without_noise_is_the_gradient(case):
    given = case.given([1])
    first = SmoothGrad().explain(given, SmoothGradParams(samples=4, seed=3)).attributions
    again = SmoothGrad().explain(given, SmoothGradParams(samples=4, seed=3)).attributions
    np.testing.assert_array_equal(first, again)
    plain = smoothgrad_from_noise(given, np.zeros((1, *case.image.shape[1:]), np.float32))
    from app.explain.gradient_base import input_gradients

    np.testing.assert_allclose(plain, input_gradients(given), rtol=1e-5, atol=1e-8)
