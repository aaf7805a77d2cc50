"""SmoothGrad (Smilkov et al. 2017), https://arxiv.org/abs/1706.03825."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from app.explain.base import Cost, ExplainInput, Workload
from app.explain.gradient_base import (
    Attribution,
    GradientMethod,
    GradientParams,
    weighted_input_gradients,
)


class SmoothGradParams(GradientParams):
    samples: int = Field(25, ge=1, le=200, description="noisy copies averaged")
    noise: float = Field(0.15, ge=0.0, le=1.0, description="noise sigma / input value range")
    seed: int = Field(0, ge=0, description="noise generator seed")


class SmoothGrad(GradientMethod):
    """The mean input gradient over noisy copies x + N(0, sigma^2), sigma = `noise` times
    (max - min) of the input. One batched run. Equals Captum `NoiseTunnel(Saliency)` with
    `nt_type="smoothgrad"`, `abs=False`, given the same noise."""

    summary = "gradient averaged over noisy copies of the input"
    Params = SmoothGradParams
    budget_advice = "Ask for fewer samples or targets."

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        assert isinstance(params, SmoothGradParams)
        passes = len(given.targets) * params.samples
        advice = "Ask for fewer samples or targets."
        given.budget.require(passes, "SmoothGrad", advice, passes * given.elements)
        sigma = params.noise * float(given.image.max() - given.image.min())
        rng = np.random.default_rng(params.seed)
        shape = (params.samples, *given.image.shape[1:])
        noise = rng.normal(0.0, sigma, shape).astype(np.float32)  # (S, C, H, W)
        return smoothgrad_from_noise(given, noise), {"sigma": sigma}

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """One run of the explain graph per noisy copy and target."""
        assert isinstance(params, SmoothGradParams)
        return Cost(work.targets * params.samples, work.targets * params.samples)


def smoothgrad_from_noise(given: ExplainInput, noise: np.ndarray) -> np.ndarray:
    """Mean gradient over given.image + noise[s] for each target: (T, C, H, W)."""
    weights = np.full(len(noise), 1.0 / len(noise))
    return weighted_input_gradients(given, given.image + noise, weights)[0]
