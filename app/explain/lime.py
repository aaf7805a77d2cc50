"""LIME (Ribeiro et al. 2016, "Why Should I Trust You?"), https://arxiv.org/abs/1602.04938,
on superpixels."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from app.explain.superpixel_base import SuperpixelMethod, SuperpixelParams


class LIMEParams(SuperpixelParams):
    kernel_width: float = Field(
        0.25, ge=0.01, le=100, description="of the similarity kernel (narrower ones underflow)"
    )
    ridge: float = Field(1.0, ge=0, le=1e6, description="L2 penalty of the surrogate")


class LIME(SuperpixelMethod):
    """The coefficients of a weighted ridge regression of the target's score on which
    superpixels are kept, over random samples near the image.

    As the `lime` package's image explainer: the first sample keeps every superpixel, the
    others keep each with probability 1/2; a sample z weighs exp(-d^2 / (2 w^2)) with d the
    cosine distance between z and the all-ones vector (1 for the empty sample) and w =
    `kernel_width`; ridge regression with an intercept (alpha 1). Hidden superpixels take
    the baseline's pixels. Equals Captum `Lime` given the same superpixels, samples,
    similarity and `SkLearnRidge` surrogate. Forward only; `samples` forward passes.
    `extras`: the surrogate's intercept and weighted R^2 per target.
    """

    summary = "a local linear surrogate on superpixels kept or hidden at random"
    Params = LIMEParams

    def draw(
        self, rng: np.random.Generator, count: int, params: SuperpixelParams
    ) -> tuple[np.ndarray, np.ndarray]:
        assert isinstance(params, LIMEParams)
        keep = rng.integers(0, 2, (params.samples, count))
        keep[0] = 1
        return keep, lime_similarity(keep, params.kernel_width)

    def fit_ridge(self, params: SuperpixelParams) -> float:
        assert isinstance(params, LIMEParams)
        return params.ridge


def lime_similarity(keep: np.ndarray, width: float) -> np.ndarray:
    """exp(-d^2 / (2 width^2)), d the cosine distance of each sample (S, M) from all ones."""
    kept = keep.sum(axis=1).astype(np.float64)
    cosine = kept / np.maximum(np.sqrt(kept) * np.sqrt(keep.shape[1]), 1e-12)
    distance = 1.0 - cosine
    return np.exp(-(distance**2) / (2 * width**2))
