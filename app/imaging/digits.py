"""MNIST-style digit normalisation, as LeCun et al. built MNIST: a dark digit photographed
on paper, or one drawn in a browser, becomes a light digit centred by mass on black."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.store.manifest import DigitNormalisation


def normalise_digit(grey: np.ndarray, digit: DigitNormalisation) -> np.ndarray:
    """MNIST-style digit: float32 (canvas, canvas) in [0, 1], a light digit on black.

    A light background is inverted and subtracted, the digit is cropped to its bounding box,
    scaled so its longer side is `box` (keeping the aspect ratio) and placed so that its
    centre of mass (in pixel indices) falls on pixel (canvas/2, canvas/2), as in MNIST.
    """
    ink = _ink(grey.astype(np.float32) / 255.0)  # (H, W), 0 = background
    marked = ink > 0.05
    rows, cols = np.flatnonzero(marked.any(axis=1)), np.flatnonzero(marked.any(axis=0))
    canvas = np.zeros((digit.canvas, digit.canvas), dtype=np.float32)
    if rows.size == 0:
        return canvas
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    patch = _fit_box(crop, digit.box)
    mass_row, mass_col = _centre_of_mass(patch)
    top = min(max(round(digit.canvas / 2 - mass_row), 0), digit.canvas - patch.shape[0])
    left = min(max(round(digit.canvas / 2 - mass_col), 0), digit.canvas - patch.shape[1])
    canvas[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return canvas


def _ink(grey: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds, 0 on the background and 1 at the strongest stroke."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if _median(border) > 0.5:
        grey = 1.0 - grey
        border = 1.0 - border
    background = _median(border)
    ink = np.maximum(grey - background, 0.0)
    peak = float(ink.max())
    return ink / peak if peak > 0 else ink


def _median(values: np.ndarray) -> float:
    """numpy's median of a 1-D array, by one sort (np.median costs more on a few hundred
    values than the sort does)."""
    ordered = np.sort(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2)


def _fit_box(crop: np.ndarray, box: int) -> np.ndarray:
    height, width = crop.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return crop
    resized = Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _centre_of_mass(patch: np.ndarray) -> tuple[float, float]:
    total = float(patch.sum())
    rows, cols = np.indices(patch.shape)
    return float((rows * patch).sum() / total), float((cols * patch).sum() / total)


def fit_canvas(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad (centred) or resize a digit canvas to the model's input size."""
    if pixels.shape == (height, width):
        return pixels
    if pixels.shape[0] <= height and pixels.shape[1] <= width:
        top, left = (height - pixels.shape[0]) // 2, (width - pixels.shape[1]) // 2
        out = np.zeros((height, width), dtype=np.float32)
        out[top : top + pixels.shape[0], left : left + pixels.shape[1]] = pixels
        return out
    resized = Image.fromarray(pixels.astype(np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.asarray(resized, dtype=np.float32)
