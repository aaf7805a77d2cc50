"""KernelSHAP (Lundberg & Lee 2017, "A Unified Approach to Interpreting Model
Predictions"), https://arxiv.org/abs/1705.07874, on superpixels."""

from __future__ import annotations

import numpy as np

from app.explain.superpixel_base import SuperpixelMethod, SuperpixelParams

EXTREME_WEIGHT = 1e6  # the empty and the full sample: nearly exact constraints


class KernelSHAP(SuperpixelMethod):
    """Shapley values of the superpixels, estimated by a weighted linear regression of the
    target's score on which superpixels are kept.

    As Captum's `KernelShap`: the first sample keeps every superpixel and the second none,
    both with weight 1e6 (so the values sum to f(x) - f(baseline), the efficiency axiom);
    each other sample keeps k superpixels, k drawn with probability proportional to
    (M - 1) / (k (M - k)), the kept ones uniformly among the M; those weigh 1, which with
    this sampling is the Shapley kernel. Least squares with an intercept, no penalty.
    Equals Captum `KernelShap` given the same superpixels and samples. Forward only;
    `samples` forward passes.
    """

    summary = "Shapley values of superpixels by a weighted linear regression"

    def draw(
        self, rng: np.random.Generator, count: int, params: SuperpixelParams
    ) -> tuple[np.ndarray, np.ndarray]:
        sizes = np.arange(1, count)
        chances = 1.0 / (sizes * (count - sizes))
        kept = rng.choice(sizes, params.samples, p=chances / chances.sum())
        ranks = rng.random((params.samples, count)).argsort(axis=1).argsort(axis=1)
        keep = (ranks < kept[:, None]).astype(np.int64)  # k random superpixels per row
        keep[0], keep[1] = 1, 0
        weights = np.ones(params.samples)
        weights[:2] = EXTREME_WEIGHT
        return keep, weights
