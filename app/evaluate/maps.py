"""The baseline maps every method is compared with: a random map at the method's own grid
(pixel-wise for pixel methods; at the layer's resolution, upsampled bilinearly as the CAMs
are, for methods that read a layer), and a centred Gaussian.

A random map must match the resolution of the map it is compared with: scattered random
pixels destroy a small image faster than any contiguous region does, so a CAM looks worse
than "random" against pixel-wise noise and better than it should against nothing."""

from __future__ import annotations

import numpy as np

from app.imaging.smoothing import resize_bilinear

Grid = tuple[int, int]
CENTRE_SIGMA = 0.25  # of the shorter side


def random_maps(rng: np.random.Generator, grid: Grid, size: Grid, count: int) -> np.ndarray:
    """`count` maps (count, H, W) of uniform noise drawn at `grid` (h, w) and upsampled
    bilinearly to `size` (H, W) when the grid is coarser."""
    noise = rng.random((count, *grid))  # (count, h, w)
    if tuple(grid) == tuple(size):
        return noise.astype(np.float32)
    return resize_bilinear(noise, *size)


def centre_map(size: Grid) -> np.ndarray:
    """A Gaussian (H, W) centred on the input, sigma a quarter of the shorter side: what a
    photographer's framing alone predicts."""
    height, width = size
    rows = np.arange(height) - (height - 1) / 2
    cols = np.arange(width) - (width - 1) / 2
    sigma = CENTRE_SIGMA * min(size)
    squared = rows[:, None] ** 2 + cols[None, :] ** 2
    return np.exp(-squared / (2 * sigma**2)).astype(np.float32)


def grid_name(grid: Grid, size: Grid) -> str:
    """How a random map at `grid` is called in results: pixel-wise, or h x w upsampled."""
    return "random pixels" if tuple(grid) == tuple(size) else f"random {grid[0]}x{grid[1]}"
