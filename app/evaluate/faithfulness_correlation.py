"""Faithfulness correlation (Bhatt, Weller and Moura 2020, "Evaluating and aggregating
feature-based model explanations", https://arxiv.org/abs/2005.00631): Pearson's correlation,
over random subsets S of the pixels, between the attribution summed over S and the drop of
the target's probability when S is replaced by the substrate.

Every subset holds the same number of pixels (a fraction of the image, all channels of a
pixel together), drawn without replacement from a seeded generator. The subsets and the
drops depend on the image only, so every map of an image is scored on the same ones (the
comparison between methods is paired). Quantus's `FaithfulnessCorrelation` does the same
with its own subsets; a map constant on the image has no correlation (None)."""

from __future__ import annotations

import numpy as np

from app.evaluate.cases import ImageCase
from app.evaluate.statistics import pearson
from app.explain.base import chunks


def random_subsets(
    rng: np.random.Generator, size: tuple[int, int], fraction: float, runs: int
) -> np.ndarray:
    """`runs` boolean masks (R, H, W), each of max(1, round(fraction H W)) pixels."""
    pixels = size[0] * size[1]
    count = max(1, round(fraction * pixels))
    masks = np.zeros((runs, pixels), dtype=bool)
    for row in masks:
        row[rng.choice(pixels, count, replace=False)] = True
    return masks.reshape(runs, *size)


def output_drops(case: ImageCase, base: np.ndarray, subsets: np.ndarray) -> np.ndarray:
    """p(target | x) - p(target | x with each subset replaced by `base`) (R,)."""
    image = case.nchw()  # (1, C, H, W)
    given = case.given
    scores = [
        given.scores(given.model_layout(np.where(subsets[part][:, None], base, image)))
        for part in chunks(len(subsets))
    ]
    return case.probability - np.concatenate(scores)[:, case.target]


def faithfulness_correlation(
    heatmap: np.ndarray, subsets: np.ndarray, drops: np.ndarray
) -> float | None:
    """Pearson's correlation of the map summed over each subset with the drops."""
    sums = subsets.reshape(len(subsets), -1) @ heatmap.ravel().astype(np.float64)  # (R,)
    return pearson(sums, drops)
