"""Blur Integrated Gradients (Xu et al. 2020, "Attribution in Scale and Space"),
https://arxiv.org/abs/2004.03383."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from app.explain.base import Cost, ExplainInput, Workload
from app.explain.gradient_base import (
    Attribution,
    GradientMethod,
    GradientParams,
    weighted_input_gradients,
)


class BlurIGParams(GradientParams):
    steps: int = Field(32, ge=1, le=512, description="intervals on the path of blurs")
    max_sigma: float | None = Field(
        None, gt=0, le=256, description="the most blurred end, in pixels (default: the "
        "longer side / 6, as the paper's 50 for 299 pixels)"
    )  # fmt: skip
    reduce: Literal["max_abs", "sum", "abs_sum"] = "sum"


class BlurIG(GradientMethod):
    """The path integral of the gradient along blurs of the input, from the most blurred to
    the input itself: sum_j grad f(L(x, s_j)) * (L(x, sigma_j) - L(x, sigma_(j-1))), with
    sigma_j = max_sigma (1 - j / steps), j = 0..steps, and s_j the midpoint of each interval
    (the midpoint rule of the paper's integral, eq. 4). L(x, sigma) is a Gaussian blur
    (`blur_operator`). Multiplying by the change of the blurred image over each interval,
    rather than sigma times its derivative, makes the sum telescope: for a linear f the
    attributions are exactly w * (x - L(x, max_sigma)). One batched run of `steps` points per
    target, and one forward run of both ends for the completeness gap (sum of attributions
    - (f(x) - f(L(x, max_sigma))) on the target logit), reported in `extras`.

    Conventions: the blur is applied to the model's input tensor (after mean/std
    normalisation, a linear map of the pixels, so the same blur); it is not truncated (its
    kernel spans the image) and mirrors the image at the edges without repeating the edge
    pixel. The authors' code truncates at 4 sigma, mirrors with the edge pixel repeated and
    takes sigma's derivative by a finite difference.
    """

    summary = "path integral of gradients from a blurred copy to the input"
    Params = BlurIGParams
    budget_advice = "Ask for fewer steps or targets."

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        assert isinstance(params, BlurIGParams)
        image = given.nchw(given.image)  # (1, C, H, W)
        largest = params.max_sigma or max(image.shape[2:]) / 6
        sigmas = largest * (1 - np.arange(params.steps + 1) / params.steps)  # max .. 0
        path = np.concatenate([blurred(image, float(s)) for s in sigmas])  # (S + 1, C, H, W)
        middles = np.concatenate([blurred(image, float(s)) for s in (sigmas[1:] + sigmas[:-1]) / 2])
        inputs = given.model_layout(np.ascontiguousarray(middles, dtype=np.float32))
        attributions = weighted_input_gradients(given, inputs, np.diff(path, axis=0))[0]
        ends = given.scores(given.model_layout(path[[0, -1]].astype(np.float32)), "logit")
        rise = [float(ends[1, k] - ends[0, k]) for k in given.targets]
        gaps = [float(attributions[t].sum()) - rise[t] for t in range(len(given.targets))]
        return attributions, {"max_sigma": largest, "completeness_gap": gaps,
                              "logit_difference": rise}  # fmt: skip

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """One run of the explain graph per step and target, and one forward run of the two
        ends of the path."""
        assert isinstance(params, BlurIGParams)
        runs = work.targets * params.steps
        return Cost(runs + 2, runs)


def blur_operator(size: int, sigma: float) -> np.ndarray:
    """(size, size) matrix of a 1-D Gaussian blur of `sigma` pixels: weights exp(-d^2 / 2
    sigma^2) over every offset |d| < size, normalised, the signal mirrored at both edges
    without repeating the edge sample; the identity at sigma 0. Output i reads input j
    directly (offset j - i) and through each mirror: position -j (offset -(i + j)) and
    position 2 (size - 1) - j (offset 2 (size - 1) - i - j)."""
    if sigma <= 0 or size == 1:
        return np.eye(size)
    last = size - 1
    offsets = np.arange(-last, size)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    weights /= weights.sum()

    def weight(offset: np.ndarray) -> np.ndarray:  # 0 beyond the kernel's span
        return np.where(np.abs(offset) <= last, weights[np.clip(offset + last, 0, 2 * last)], 0)

    i, j = np.indices((size, size))
    return weight(j - i) + (j >= 1) * weight(i + j) + (j <= last - 1) * weight(2 * last - i - j)


def blurred(images: np.ndarray, sigma: float) -> np.ndarray:
    """(N, C, H, W) images blurred by `sigma` pixels along both image axes."""
    rows = blur_operator(images.shape[2], sigma)
    cols = blur_operator(images.shape[3], sigma)
    return rows @ images.astype(np.float64) @ cols.T  # (N, C, H, W)
