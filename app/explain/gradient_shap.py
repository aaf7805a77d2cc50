"""GradientSHAP (Lundberg & Lee 2017, https://arxiv.org/abs/1705.07874, as Captum's
`GradientShap`) and Expected Gradients (Erion et al. 2021, https://arxiv.org/abs/1906.10670):
the same estimator with baselines drawn from data and no noise."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from app.errors import MissingBaselineError
from app.explain.base import Cost, ExplainInput, Workload, reference_input
from app.explain.gradient_base import (
    Attribution,
    GradientMethod,
    GradientParams,
    weighted_input_gradients,
)

Distribution = Literal["auto", "samples", "blur", "noise", "zeros"]
BLUR_LEVELS, NOISE_IMAGES = 8, 16


class GradientSHAPParams(GradientParams):
    baselines: Distribution = Field(
        "auto", description="samples: the model's own sample pictures (Expected Gradients); "
        "blur: the image blurred at 8 sigmas up to blur_sigma; noise: 16 uniform-noise "
        "images; zeros: the zero input; auto: samples where the model has them, else blur"
    )  # fmt: skip
    samples: int = Field(32, ge=1, le=512, description="draws (baseline, noise, point)")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="noise sigma / input value range")
    blur_sigma: float | None = Field(
        None, gt=0, le=256, description="baselines=blur: the largest sigma in pixels "
        "(default: the longer side / 6)"
    )  # fmt: skip
    seed: int = Field(0, ge=0, description="generator of the draws")
    reduce: Literal["max_abs", "sum", "abs_sum"] = "sum"


class GradientSHAP(GradientMethod):
    """The expected gradient times (input - baseline) over random points between baselines
    and the input: mean_s grad f(b_s + a_s (x + e_s - b_s)) * (x + e_s - b_s), with b_s
    drawn uniformly from the baselines, e_s ~ N(0, sigma^2) (sigma = `noise` times the
    input's range) and a_s ~ U(0, 1). One batched run of `samples` points per target.

    Equals Captum `GradientShap(multiply_by_inputs=True)` given the same draws (baseline
    indices, noise, alphas); Captum's `stdevs` is our sigma. With `baselines=samples` and no
    noise it is Expected Gradients. The attributions sum, in expectation, to
    E[f(x + e) - f(b)] on the target logit.
    """

    summary = "expected gradient x (input - baseline), baselines drawn from a distribution"
    Params = GradientSHAPParams
    budget_advice = "Ask for fewer samples or targets."

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        assert isinstance(params, GradientSHAPParams)
        rng = np.random.default_rng(params.seed)
        distribution = baseline_distribution(given, params, rng)  # (B, C, H, W)
        image = given.nchw(given.image)  # (1, C, H, W)
        sigma = params.noise * float(image.max() - image.min())
        noise = rng.normal(0.0, sigma, (params.samples, *image.shape[1:]))
        indices = rng.integers(0, len(distribution), params.samples)
        alphas = rng.uniform(0.0, 1.0, params.samples)
        attributions = gradient_shap_from_draws(given, distribution[indices], image + noise, alphas)
        return attributions, {"baselines": len(distribution), "sigma": sigma}

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """One run of the explain graph per draw and target."""
        assert isinstance(params, GradientSHAPParams)
        return Cost(work.targets * params.samples, work.targets * params.samples)


def gradient_shap_from_draws(
    given: ExplainInput, baselines: np.ndarray, noisy: np.ndarray, alphas: np.ndarray
) -> np.ndarray:
    """mean_s grad f(b_s + a_s (x_s - b_s)) * (x_s - b_s) for each target, (T, C, H, W), from
    baselines b (S, C, H, W), noisy inputs x (S, C, H, W) and alphas a (S,)."""
    differences = (noisy - baselines).astype(np.float32)
    points = baselines + alphas[:, None, None, None] * differences  # (S, C, H, W)
    inputs = given.model_layout(np.ascontiguousarray(points, dtype=np.float32))
    return weighted_input_gradients(given, inputs, differences / len(alphas))[0]


def baseline_distribution(
    given: ExplainInput, params: GradientSHAPParams, rng: np.random.Generator
) -> np.ndarray:
    """The baselines (B, C, H, W) the draws pick from, in model input units."""
    image = given.nchw(given.image)  # (1, C, H, W)
    kind = params.baselines
    if kind == "auto":
        kind = "samples" if given.model.samples is not None else "blur"
    if kind == "samples":
        if given.model.samples is None:
            raise MissingBaselineError("This model has no sample pictures; use another baselines.")
        return given.nchw(given.model.samples)
    if kind == "noise":
        low, high = float(image.min()), float(image.max())
        return rng.uniform(low, high, (NOISE_IMAGES, *image.shape[1:]))
    if kind == "zeros":
        return np.zeros_like(image)
    largest = params.blur_sigma or max(image.shape[2:]) / 6
    sigmas = largest * np.arange(1, BLUR_LEVELS + 1) / BLUR_LEVELS
    return np.concatenate([reference_input(given, "blur", float(s)) for s in sigmas])
