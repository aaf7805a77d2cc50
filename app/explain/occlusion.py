"""Occlusion (Zeiler & Fergus 2014), https://arxiv.org/abs/1311.2901."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from app.explain.base import ExplainInput, Explanation, Method, MethodParams, Score, chunks
from app.explain.smoothing import gaussian_blur


class OcclusionParams(MethodParams):
    window_height: int | None = Field(None, ge=1, le=4096, description="patch height in pixels "
                                      "(default: 1/7 of the input height, at least 2)")  # fmt: skip
    window_width: int | None = Field(None, ge=1, le=4096, description="patch width in pixels "
                                     "(default: 1/7 of the input width, at least 2)")  # fmt: skip
    stride: int | None = Field(None, ge=1, le=4096, description="step between patches, both "
                               "axes (default: half the window)")  # fmt: skip
    baseline: Literal["constant", "mean", "blur"] = Field(
        "constant", description="what hides a patch: a constant pixel, the image's mean, or "
        "the blurred image"
    )  # fmt: skip
    fill: float = Field(0.0, ge=0, le=1, description="baseline=constant: pixel value, 0 black")
    blur_sigma: float = Field(4.0, gt=0, le=64, description="baseline=blur: sigma in pixels")
    score: Score = Field("probability", description="what drops: probability or raw output")


class Occlusion(Method):
    """The drop of the target's score when a patch is hidden, slid over the image.

    Conventions are Captum's `Occlusion` with `sliding_window_shapes=(C, h, w)`: the first
    patch sits at (0, 0), patches step by `stride` until the image is covered (the last one
    per axis may be cut off at the edge), and each pixel gets the mean score drop of the
    patches that covered it. Scores are softmax probabilities by default (`score=logit`:
    the raw outputs). Unlike Captum, a stride larger than the window is allowed; pixels no
    patch covers get 0. The patches run in batches of the forward-only session; one run per
    patch plus one for the intact image counts against the request's budget.

    `extras["class_map"]` (H, W): for each pixel, the class that wins when the patch centred
    nearest to it is hidden.
    """

    family = "perturbation"
    needs_gradients = False
    summary = "score drop when each patch of the image is hidden"
    Params = OcclusionParams

    def explain(self, given: ExplainInput, params: OcclusionParams) -> Explanation:
        rows, cols = patch_masks(given.nchw(given.image).shape[2:], params)  # (Py, H), (Px, W)
        given.spend(len(rows) * len(cols) + 1, "Occlusion", "Use a larger window or stride.")
        scores = patch_scores(given, params, rows, cols)  # (1 + Py * Px, K)
        drops = scores[0, given.targets] - scores[1:, given.targets]  # (Py * Px, T)
        drops = drops.T.reshape(len(given.targets), len(rows), len(cols))  # (T, Py, Px)
        total = np.einsum("yh,tyx,xw->thw", rows, drops, cols)
        coverage = np.outer(rows.sum(axis=0), cols.sum(axis=0))  # (H, W)
        heatmaps = (total / np.maximum(coverage, 1)).astype(np.float32)
        winners = scores[1:].argmax(axis=1).reshape(len(rows), len(cols))
        extras = {
            "class_map": class_map(winners, rows, cols).tolist(),
            "forward_passes": len(scores),
        }
        return Explanation(heatmaps, signed=True, extras=extras)


def patch_scores(
    given: ExplainInput, params: OcclusionParams, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Scores of the intact image, then of each patch position hidden (row-major), batched."""
    image = given.nchw(given.image)  # (1, C, H, W)
    baseline = occlusion_baseline(given, params)  # (1, C, H, W)
    runs = [given.scores(given.model_layout(image), params.score)]
    for part in chunks(len(rows) * len(cols)):
        hidden = occluded(image, baseline, rows, cols, part)  # (n, C, H, W)
        runs.append(given.scores(given.model_layout(hidden), params.score))
    return np.concatenate(runs)


def patch_masks(size: tuple[int, int], params: OcclusionParams) -> tuple[np.ndarray, np.ndarray]:
    """Which rows (Py, H) and columns (Px, W) each patch position covers, as 0/1 floats."""
    axes = []
    for side, window in zip(size, (params.window_height, params.window_width), strict=True):
        window = min(window or max(2, round(side / 7)), side)
        stride = params.stride or max(1, window // 2)
        starts = np.arange(int(np.ceil((side - window) / stride)) + 1) * stride
        starts = starts[starts < side]  # only a stride above the window overshoots
        pixels = np.arange(side)
        axes.append(
            ((pixels >= starts[:, None]) & (pixels < starts[:, None] + window)).astype(float)
        )
    return axes[0], axes[1]


def occlusion_baseline(given: ExplainInput, params: OcclusionParams) -> np.ndarray:
    image = given.nchw(given.image)  # (1, C, H, W)
    if params.baseline == "mean":
        return np.broadcast_to(image.mean(axis=(2, 3), keepdims=True), image.shape)
    if params.baseline == "blur":
        return gaussian_blur(image, params.blur_sigma)
    return given.nchw(given.filled(params.fill))


def occluded(
    image: np.ndarray, baseline: np.ndarray, rows: np.ndarray, cols: np.ndarray, part: slice
) -> np.ndarray:
    """Copies of the image (n, C, H, W), patch positions `part` (row-major) hidden."""
    row, col = np.divmod(np.arange(len(rows) * len(cols))[part], len(cols))
    hidden = (rows[row][:, :, None] * cols[col][:, None, :]) > 0  # (n, H, W)
    return np.where(hidden[:, None], baseline, image).astype(np.float32)


def class_map(winners: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(Py, Px) winning classes -> (H, W): each pixel takes the patch centred nearest."""
    nearest = []
    for masks in (rows, cols):
        centres = (masks * np.arange(masks.shape[1])).sum(axis=1) / masks.sum(axis=1)  # (P,)
        pixels = np.arange(masks.shape[1])
        nearest.append(np.abs(pixels[:, None] - centres[None, :]).argmin(axis=1))
    return winners[nearest[0]][:, nearest[1]]
