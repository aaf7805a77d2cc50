"""Integrated Gradients (Sundararajan et al. 2017), https://arxiv.org/abs/1703.01365."""

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


class IntegratedGradientsParams(GradientParams):
    steps: int = Field(32, ge=2, le=512, description="points on the path, ends included")
    baseline: Literal["zeros", "black", "blur", "uniform", "given"] = Field(
        "zeros", description="zeros of the input tensor (Captum's default), a black image, the "
        "blurred input, uniform noise, or the image sent as `baseline`"
    )  # fmt: skip
    blur_sigma: float = Field(4.0, gt=0, le=64, description="for baseline=blur, in pixels")
    seed: int = Field(0, ge=0, description="for baseline=uniform")
    reduce: Literal["max_abs", "sum", "abs_sum"] = "sum"


class IntegratedGradients(GradientMethod):
    """(x - x') times the path integral of the gradient from the baseline x' to x, by the
    trapezoid rule on `steps` evenly spaced points of [0, 1], ends included, in one batched
    run. Reports the completeness gap: sum of attributions - (f(x) - f(x')) on the target
    logit, which shrinks as steps grow.

    Convention: the points are Captum's `riemann_trapezoid` points, but the weights are the
    trapezoid rule's 1/(steps - 1) (halved at the ends), summing to 1. Captum weights them
    1/steps, so its attributions are ours times (steps - 1)/steps and its completeness gap
    never closes below (f(x) - f(x'))/steps."""

    summary = "path integral of gradients from a baseline to the input"
    Params = IntegratedGradientsParams
    budget_advice = "Ask for fewer steps or targets."

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        assert isinstance(params, IntegratedGradientsParams)
        passes = len(given.targets) * params.steps
        advice = "Ask for fewer steps or targets."
        given.budget.require(passes, "Integrated Gradients", advice, passes * given.elements)
        baseline = make_baseline(given, params)
        return integrate(given, baseline, params.steps)

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """One run of the explain graph per point on the path and target."""
        assert isinstance(params, IntegratedGradientsParams)
        return Cost(work.targets * params.steps, work.targets * params.steps)


def integrate(given: ExplainInput, baseline: np.ndarray, steps: int) -> Attribution:
    alphas = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    weights = np.full(steps, 1.0 / (steps - 1))
    weights[[0, -1]] /= 2  # trapezoid rule
    path = baseline + alphas[:, None, None, None] * (given.image - baseline)  # (S, ...)
    integrals, logits = weighted_input_gradients(given, path, weights)  # (T, C, H, W), (T, S, K)
    attributions = integrals * given.nchw(given.image - baseline)
    rise = [logits[t, -1, k] - logits[t, 0, k] for t, k in enumerate(given.targets)]
    gaps = [float(attributions[t].sum() - rise[t]) for t in range(len(given.targets))]
    return attributions.astype(np.float32), {
        "completeness_gap": gaps,
        "logit_difference": [float(value) for value in rise],
    }


def make_baseline(given: ExplainInput, params: IntegratedGradientsParams) -> np.ndarray:
    """The baseline in the model's layout, like `given.image`."""
    if params.baseline == "given":
        return _given_baseline(given)
    if params.baseline == "uniform":
        rng = np.random.default_rng(params.seed)
        image = given.image
        return rng.uniform(image.min(), image.max(), image.shape).astype(np.float32)
    reference = reference_input(given, params.baseline, params.blur_sigma)  # (1, C, H, W)
    return given.model_layout(np.ascontiguousarray(reference, dtype=np.float32))


def _given_baseline(given: ExplainInput) -> np.ndarray:
    if given.baseline is None:
        raise MissingBaselineError("baseline=given needs a `baseline` image.")
    return given.baseline
