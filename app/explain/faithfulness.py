"""Deletion and insertion curves (Petsiuk et al. 2018, the RISE paper's protocol),
https://arxiv.org/abs/1806.07421: how fast the target's probability falls as the pixels a
heatmap ranks highest are removed, and how fast it rises as they are revealed.

Pixels are ranked by the heatmap, highest first (ties in raster order), and moved in `steps`
equal chunks (the k-th point has round(k * H * W / steps) pixels moved), all channels of a
pixel together. Deletion starts from the image and replaces pixels by the substrate;
insertion starts from the substrate and reveals the image's pixels. Substrates: `zeros`, the
all-zero input tensor (the mean picture of a mean/std-normalised model; what the authors'
code uses for deletion); `black`, a black picture; `blur`, the input blurred with a Gaussian
of sigma 5 pixels per 224 of the longer side (at least 1; the authors' insertion
substrate). Each point is the target's softmax probability; AUC is the trapezoid rule over
[0, 1]. Lower deletion AUC and higher insertion AUC mean a more faithful map. One forward
pass per point, 2 (steps + 1) per map, batched.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from app.explain.base import ExplainInput, chunks, reference_input
from app.explain.response import Curve, Faithfulness

Substrate = Literal["zeros", "black", "blur"]


def faithfulness_passes(targets: int, steps: int) -> int:
    """Forward passes for the curves of `targets` maps."""
    return 2 * targets * (steps + 1)


def faithfulness_elements(targets: int, steps: int, given: ExplainInput) -> int:
    """Array elements the curves build: a masked copy of the input and its mask per point."""
    return faithfulness_passes(targets, steps) * (given.elements + given.pixels)


def faithfulness(
    given: ExplainInput, heatmaps: np.ndarray, steps: int, substrate: Substrate
) -> list[Faithfulness]:
    """The deletion and insertion curves of each target's map (T, H, W)."""
    base = substrate_input(given, substrate)  # (1, C, H, W)
    return [
        curves(given, base, heatmap, target, steps)
        for heatmap, target in zip(heatmaps, given.targets, strict=True)
    ]


def substrate_input(given: ExplainInput, substrate: Substrate) -> np.ndarray:
    """What removed pixels become (1, C, H, W); `blur` has sigma 5 pixels per 224."""
    sigma = max(1.0, 5.0 * max(given.nchw(given.image).shape[2:]) / 224)
    return reference_input(given, substrate, sigma)


def curves(
    given: ExplainInput, base: np.ndarray, heatmap: np.ndarray, target: int, steps: int
) -> Faithfulness:
    image = given.nchw(given.image)  # (1, C, H, W)
    moved = moved_pixels(heatmap, steps)  # (S + 1, H, W)
    substrate_shows = np.concatenate([moved, ~moved])  # deletion points, then insertion
    probabilities = np.concatenate(
        [
            given.scores(given.model_layout(np.where(substrate_shows[part][:, None], base, image)))
            for part in chunks(len(substrate_shows))
        ]
    )[:, target]  # (2 (S + 1),)
    return Faithfulness(
        deletion=_curve(probabilities[: steps + 1]), insertion=_curve(probabilities[steps + 1 :])
    )


def moved_pixels(heatmap: np.ndarray, steps: int) -> np.ndarray:
    """(S + 1, H, W) booleans: point k holds the first round(k H W / S) pixels by rank."""
    order = np.argsort(-heatmap.ravel(), kind="stable")
    rank = np.empty(heatmap.size, dtype=np.int64)
    rank[order] = np.arange(heatmap.size)
    counts = np.round(np.linspace(0, heatmap.size, steps + 1)).astype(np.int64)
    return (rank[None, :] < counts[:, None]).reshape(steps + 1, *heatmap.shape)


def auc(values: np.ndarray) -> float:
    """Area under a curve of evenly spaced points over [0, 1], by the trapezoid rule."""
    values = np.asarray(values, dtype=np.float64)
    return float((values[1:] + values[:-1]).sum() / (2 * (len(values) - 1)))


def _curve(values: np.ndarray) -> Curve:
    return Curve(curve=[float(v) for v in values], auc=auc(values))
