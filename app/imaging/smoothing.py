"""Gaussian blur and bilinear resizing of (N, C, H, W) arrays, in numpy."""

from __future__ import annotations

import numpy as np

MIN_SIGMA = 1e-3  # pixels: a narrower Gaussian leaves every pixel as it is


def gaussian_kernel(sigma: float) -> np.ndarray:
    """The normalised 1-D Gaussian of `sigma` pixels over +-3 sigma; [1] (no blur) below
    MIN_SIGMA, where its weights would underflow."""
    if sigma < MIN_SIGMA:
        return np.ones(1)
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur over the last two axes, edges reflected."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    blurred = images.astype(np.float64)
    for axis in (-2, -1):
        pad = [(0, 0)] * blurred.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(blurred, pad, mode="reflect" if blurred.shape[axis] > radius else "edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, len(kernel), axis=axis)
        blurred = windows @ kernel
    return blurred.astype(np.float32)


def _axis_weights(source: int, target: int) -> np.ndarray:
    """(target, source) linear interpolation weights with half-pixel centres, as torch's
    `F.interpolate(mode="bilinear", align_corners=False)`."""
    scale = source / target
    position = np.maximum((np.arange(target) + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(position).astype(int), source - 1)
    high = np.minimum(low + 1, source - 1)
    frac = position - low
    weights = np.zeros((target, source))
    np.add.at(weights, (np.arange(target), low), 1 - frac)
    np.add.at(weights, (np.arange(target), high), frac)
    return weights


def resize_bilinear(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of (..., h, w) maps to (..., height, width): two matrix products per
    map, O(H h w + H w W), never the O(H h w W) of a four-index contraction."""
    rows = _axis_weights(maps.shape[-2], height)  # (H, h)
    cols = _axis_weights(maps.shape[-1], width)  # (W, w)
    return (rows @ maps.astype(np.float64) @ cols.T).astype(np.float32)
