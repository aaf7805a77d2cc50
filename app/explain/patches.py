"""Square-ish patches slid over an image, for the perturbation methods (occlusion): which
pixels each patch position covers, the scores with each patch hidden, per-pixel means of
per-patch values, and the class map. Patch positions are row-major: index = y * Px + x."""

from __future__ import annotations

import numpy as np

from app.explain.base import ExplainInput, Score, chunks
from app.explain.crops import CropPlan, cropped_scores, plan_crops


def patch_masks(
    size: tuple[int, int], window: tuple[int | None, int | None], stride: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows (Py, H) and columns (Px, W) each patch position covers, as 0/1 floats.

    A window side defaults to 1/7 of the image side (at least 2) and is cut to the image; the
    stride defaults to half the window. The first patch sits at 0 and patches step by the
    stride until the image is covered (the last one may be cut off at the edge)."""
    axes = []
    for side, length in zip(size, window, strict=True):
        length = min(length or max(2, round(side / 7)), side)
        step = stride or max(1, length // 2)
        starts = np.arange(int(np.ceil((side - length) / step)) + 1) * step
        starts = starts[starts < side]  # only a stride above the window overshoots
        pixels = np.arange(side)
        axes.append(
            ((pixels >= starts[:, None]) & (pixels < starts[:, None] + length)).astype(float)
        )
    return axes[0], axes[1]


def patch_scores(
    given: ExplainInput, baseline: np.ndarray, rows: np.ndarray, cols: np.ndarray, score: Score
) -> np.ndarray:
    """Scores (1 + Py * Px, K) of the intact image, then with each patch position hidden by
    `baseline` (1, C, H, W): by runs on crops where the plan says they cost less
    (app/explain/crops.py), else in batches of the forward-only session."""
    plan = crop_plan(given, rows, cols)
    if plan is not None:
        return cropped_scores(given, baseline, rows, cols, score, plan)
    return plain_scores(given, baseline, rows, cols, score)


def crop_plan(given: ExplainInput, rows: np.ndarray, cols: np.ndarray) -> CropPlan | None:
    """The model's cheapest crop plan for these patches, worked out once per layout."""
    if given.model.spec.channels_last:
        return None
    segments = given.model.segments
    key = ("crop plan", rows.shape, cols.shape, rows.tobytes(), cols.tobytes())
    return segments.memo(key, lambda: plan_crops(segments.stem, rows, cols))


def plain_scores(
    given: ExplainInput, baseline: np.ndarray, rows: np.ndarray, cols: np.ndarray, score: Score
) -> np.ndarray:
    """`patch_scores` by whole forward runs, in batches of the forward-only session."""
    image = given.nchw(given.image)  # (1, C, H, W)
    runs = [given.scores(given.model_layout(image), score)]
    for part in chunks(len(rows) * len(cols)):
        hidden = occluded(image, baseline, rows, cols, part)  # (n, C, H, W)
        runs.append(given.scores(given.model_layout(hidden), score))
    return np.concatenate(runs)


def occluded(
    image: np.ndarray, baseline: np.ndarray, rows: np.ndarray, cols: np.ndarray, part: slice
) -> np.ndarray:
    """Copies of the image (n, C, H, W), patch positions `part` hidden."""
    row, col = np.divmod(np.arange(len(rows) * len(cols))[part], len(cols))
    hidden = (rows[row][:, :, None] * cols[col][:, None, :]) > 0  # (n, H, W)
    return np.where(hidden[:, None], baseline, image).astype(np.float32)


def mean_over_patches(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Per-patch values (T, Py * Px) -> (T, H, W) float32: each pixel gets the mean over the
    patches that cover it, 0 where none does."""
    grid = values.reshape(len(values), len(rows), len(cols))  # (T, Py, Px)
    total = rows.T @ grid @ cols  # (T, H, W), by two matrix products
    coverage = np.outer(rows.sum(axis=0), cols.sum(axis=0))  # (H, W)
    return (total / np.maximum(coverage, 1)).astype(np.float32)


def class_map(winners: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Winning classes per patch position (Py * Px,) -> (H, W): each pixel takes the class of
    the patch centred nearest to it."""
    grid = winners.reshape(len(rows), len(cols))  # (Py, Px)
    nearest = []
    for masks in (rows, cols):
        centres = (masks * np.arange(masks.shape[1])).sum(axis=1) / masks.sum(axis=1)  # (P,)
        pixels = np.arange(masks.shape[1])
        nearest.append(np.abs(pixels[:, None] - centres[None, :]).argmin(axis=1))
    return grid[nearest[0]][:, nearest[1]]
