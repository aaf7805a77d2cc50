"""Random small warps of an image for transformation robustness (Olah et al. 2017; Lucid's
`transform.standard_transforms`: jitter, scale, rotate, jitter): each step the model sees the
image shifted, scaled and rotated a little, so that what is grown survives them instead of
exploiting single pixels.

A warp samples the image at moved positions with bilinear interpolation; positions outside
the image read `fill`. It is linear in the image, so `adjoint` carries a gradient back: each
output pixel's gradient is spread on the four pixels it was read from, with the same
weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Warp:
    """Where each output pixel reads: four source indices (4, H * W) into the flattened
    image and their bilinear weights (4, H * W); 0 weight for positions outside."""

    sources: np.ndarray
    weights: np.ndarray
    shape: tuple[int, int]

    def apply(self, images: np.ndarray, fill: np.ndarray) -> np.ndarray:
        """(C, H, W) images -> warped (C, H, W); `fill` (C,) where the warp reads outside."""
        flat = images.reshape(len(images), -1)  # (C, H W)
        warped = (flat[:, self.sources] * self.weights).sum(axis=1)  # (C, H W)
        outside = 1.0 - self.weights.sum(axis=0)  # share of each pixel read from outside
        return (warped + fill[:, None] * outside).reshape(images.shape)

    def adjoint(self, gradient: np.ndarray) -> np.ndarray:
        """d/d(image) from d/d(warped image), both (C, H, W)."""
        size = self.shape[0] * self.shape[1]
        flat = gradient.reshape(len(gradient), -1)
        spread = [
            np.bincount(self.sources.ravel(), (self.weights * channel).ravel(), minlength=size)
            for channel in flat
        ]
        return np.stack(spread).reshape(gradient.shape)


def warp(shape: tuple[int, int], shift: tuple[float, float], scale: float, degrees: float) -> Warp:
    """The warp that shows the image scaled by `scale` and rotated by `degrees` about its
    centre, then moved by `shift` (rows, columns) pixels."""
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    angle = np.deg2rad(degrees)
    y, x = rows - centre_y - shift[0], cols - centre_x - shift[1]  # undo the move
    source_y = (np.cos(angle) * y + np.sin(angle) * x) / scale + centre_y  # undo the turn
    source_x = (-np.sin(angle) * y + np.cos(angle) * x) / scale + centre_x
    top, left = np.floor(source_y), np.floor(source_x)
    fy, fx = source_y - top, source_x - left
    corners = [(top, left, (1 - fy) * (1 - fx)), (top, left + 1, (1 - fy) * fx),
               (top + 1, left, fy * (1 - fx)), (top + 1, left + 1, fy * fx)]  # fmt: skip
    sources, weights = [], []
    for r, c, w in corners:
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        sources.append(np.where(inside, r * width + c, 0).astype(np.int64).ravel())
        weights.append(np.where(inside, w, 0.0).ravel())
    return Warp(np.stack(sources), np.stack(weights), shape)


def random_warp(
    rng: np.random.Generator, shape: tuple[int, int], jitter: int, scale: float, degrees: float
) -> Warp:
    """A warp drawn uniformly: shift in [-jitter, jitter] pixels per axis (whole pixels, as
    Lucid's jitter), scale in [1 - scale, 1 + scale], rotation in [-degrees, degrees]."""
    shift = rng.integers(-jitter, jitter + 1, size=2) if jitter else np.zeros(2)
    factor = rng.uniform(1 - scale, 1 + scale) if scale else 1.0
    angle = rng.uniform(-degrees, degrees) if degrees else 0.0
    return warp(shape, (float(shift[0]), float(shift[1])), float(factor), float(angle))
