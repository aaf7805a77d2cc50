"""Occlusion (Zeiler & Fergus 2014), https://arxiv.org/abs/1311.2901."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.explain.base import (
    Cost,
    ExplainInput,
    Explanation,
    Method,
    MethodParams,
    Score,
    Workload,
    reference_input,
)
from app.explain.patches import class_map, mean_over_patches, patch_masks, patch_scores


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
    patch covers get 0. The patches run in batches, on crops of the network's first layers
    where that costs less (app/explain/crops.py: the same scores); one pass per patch plus one
    for the intact image counts against the request's budget.

    `extras["class_map"]` (H, W): for each pixel, the class that wins when the patch centred
    nearest to it is hidden.
    """

    family = "perturbation"
    needs_gradients = False
    summary = "score drop when each patch of the image is hidden"
    Params = OcclusionParams
    budget_advice = "Use a larger window or stride."

    def explain(self, given: ExplainInput, params: OcclusionParams) -> Explanation:
        size = given.nchw(given.image).shape[2:]
        window = (params.window_height, params.window_width)
        rows, cols = patch_masks(size, window, params.stride)  # (Py, H), (Px, W)
        patches = len(rows) * len(cols)
        elements = patches * (given.elements + given.pixels * (1 + len(given.targets)))
        advice = "Use a larger window or stride."
        given.budget.require(patches + 1, "Occlusion", advice, elements)
        baseline = reference_input(given, params.baseline, params.blur_sigma, params.fill)
        scores = patch_scores(given, baseline, rows, cols, params.score)  # (1 + Py * Px, K)
        drops = scores[0, given.targets] - scores[1:, given.targets]  # (Py * Px, T)
        extras = {
            "class_map": class_map(scores[1:].argmax(axis=1), rows, cols).tolist(),
            "forward_passes": len(scores),
        }
        return Explanation(mean_over_patches(drops.T, rows, cols), signed=True, extras=extras)

    def cost(self, params: OcclusionParams, work: Workload) -> Cost:
        """One forward pass per patch position, and one for the intact image."""
        window = (params.window_height, params.window_width)
        rows, cols = patch_masks((work.height, work.width), window, params.stride)
        return Cost(len(rows) * len(cols) + 1)

    def native_grid(self, given: ExplainInput, params: OcclusionParams) -> tuple[int, int]:
        """One cell per patch position on each axis."""
        size = given.nchw(given.image).shape[2:]
        rows, cols = patch_masks(size, (params.window_height, params.window_width), params.stride)
        return len(rows), len(cols)
