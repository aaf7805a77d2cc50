"""What LIME and KernelSHAP share: superpixels of the input as the interpretable features,
binary samples that keep or hide each one, the model's scores for those samples in batched
forward runs, and a weighted linear fit whose coefficients paint each superpixel."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from app.explain.base import (
    Cost,
    ExplainInput,
    Explanation,
    Method,
    MethodParams,
    Score,
    Workload,
    chunks,
    reference_input,
)
from app.imaging.superpixels import grid_segments, slic
from app.imaging.tensors import input_picture


class SuperpixelParams(MethodParams):
    samples: int = Field(256, ge=2, le=16384, description="perturbed copies of the input")
    segments: int = Field(50, ge=2, le=1024, description="superpixels asked for (about)")
    segmentation: Literal["slic", "grid"] = Field(
        "slic", description="SLIC superpixels of the picture, or a grid of near-square cells"
    )
    compactness: float = Field(10.0, gt=0, le=1000, description="SLIC: colour vs position")
    baseline: Literal["zeros", "black", "mean", "blur"] = Field(
        "zeros", description="what hides a superpixel: the zero input (Captum's default), "
        "black, the image's mean colour, or the blurred image"
    )  # fmt: skip
    blur_sigma: float = Field(4.0, gt=0, le=64, description="baseline=blur: sigma in pixels")
    score: Score = Field("probability", description="what is explained: probability or raw")
    seed: int = Field(0, ge=0, description="generator of the samples")


def superpixels(given: ExplainInput, params: SuperpixelParams) -> np.ndarray:
    """(H, W) labels 0..M-1 of the input picture's superpixels."""
    picture = input_picture(given.image[0], given.model.spec, given.model.preprocessing)
    if params.segmentation == "grid":
        height, width = picture.shape[:2]
        return grid_segments(height, width, params.segments)
    return slic(picture, params.segments, params.compactness)


def sample_scores(
    given: ExplainInput, labels: np.ndarray, keep: np.ndarray, params: SuperpixelParams
) -> np.ndarray:
    """Scores (S, K) of the input with the superpixels where keep (S, M) is 0 hidden by the
    baseline, in batched forward runs."""
    image = given.nchw(given.image)  # (1, C, H, W)
    baseline = reference_input(given, params.baseline, params.blur_sigma)  # (1, C, H, W)
    runs = []
    for part in chunks(len(keep)):
        shown = keep[part][:, labels][:, None] > 0  # (n, 1, H, W)
        batch = np.where(shown, image, baseline).astype(np.float32)
        runs.append(given.scores(given.model_layout(batch), params.score))
    return np.concatenate(runs)


def weighted_linear_fit(
    features: np.ndarray, targets: np.ndarray, weights: np.ndarray, ridge: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares with an intercept, ridge-penalised: the minimiser of
    sum_s w_s (y_s - b - x_s c)^2 + ridge |c|^2 (scikit-learn's Ridge, or LinearRegression at
    ridge 0, whose least-norm solution it takes when underdetermined). features (S, M),
    targets (S, T), weights (S,) -> coefficients (T, M), intercepts (T,), weighted R^2 (T,)."""
    total = weights.sum()
    mean_x = weights @ features / total  # (M,)
    mean_y = weights @ targets / total  # (T,)
    root = np.sqrt(weights)[:, None]
    x, y = root * (features - mean_x), root * (targets - mean_y)
    if ridge > 0:
        coefficients = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)
    else:
        coefficients = np.linalg.lstsq(x, y, rcond=None)[0]  # (M, T)
    residual = ((y - x @ coefficients) ** 2).sum(axis=0)
    spread = (y**2).sum(axis=0)
    r2 = 1 - residual / np.where(spread > 0, spread, 1.0)
    return coefficients.T, mean_y - mean_x @ coefficients, r2


class SuperpixelMethod(Method):
    """A surrogate linear model on superpixels kept (1) or hidden (0); subclasses draw the
    samples and weigh them. Forward only: works on every model."""

    family = "perturbation"
    needs_gradients = False
    Params: ClassVar[type[SuperpixelParams]] = SuperpixelParams
    budget_advice = "Ask for fewer samples."
    ridge: ClassVar[float] = 0.0

    def explain(self, given: ExplainInput, params: SuperpixelParams) -> Explanation:
        self.require_budget(given, params)
        labels = superpixels(given, params)  # (H, W)
        count = int(labels.max()) + 1
        keep, weights = self.draw(np.random.default_rng(params.seed), count, params)
        scores = sample_scores(given, labels, keep, params)[:, given.targets]  # (S, T)
        coefficients, intercepts, r2 = weighted_linear_fit(
            keep.astype(np.float64), scores, weights, self.fit_ridge(params)
        )
        extras = {"segments": count, "intercept": intercepts.tolist(), "r2": r2.tolist()}
        heatmaps = coefficients[:, labels].astype(np.float32)  # (T, H, W)
        return Explanation(heatmaps, signed=True, extras=extras)

    def cost(self, params: SuperpixelParams, work: Workload) -> Cost:
        """One forward pass per sample, whatever the number of targets."""
        return Cost(params.samples)

    def fit_ridge(self, params: SuperpixelParams) -> float:
        return self.ridge

    @abstractmethod
    def draw(
        self, rng: np.random.Generator, count: int, params: SuperpixelParams
    ) -> tuple[np.ndarray, np.ndarray]:
        """Binary samples (S, M) over M superpixels and their weights (S,) in the fit."""
