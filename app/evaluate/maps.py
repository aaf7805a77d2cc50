"""The baseline maps every method is compared with: a random map at the method's own
resolution, and a centred Gaussian.

A random map must match the resolution of the map it is compared with: scattered random
pixels destroy a small image faster than any contiguous region does, so a CAM looks worse
than "random" against pixel-wise noise, and a pixel method better than it is against smooth
noise. So the noise is drawn on the units the method's map is made of (`Units`): pixels for
the gradient methods; the CAM layer's cells, upsampled bilinearly as the CAMs are, for the
methods that read a layer; the patch grid for occlusion, the cells for RISE (both from
`Method.native_grid`); one value per superpixel for LIME and KernelSHAP
(`Method.native_segments`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.explain.base import ExplainInput, Method
from app.imaging.smoothing import resize_bilinear

Grid = tuple[int, int]
CENTRE_SIGMA = 0.25  # of the shorter side


@dataclass(frozen=True)
class Units:
    """What a method's map is made of: a grid (upsampled to the input when coarser) or
    segments (H, W) of labels; `name` names its random baseline in results."""

    name: str
    size: Grid
    grid: Grid | None = None
    segments: np.ndarray | None = None

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` random maps (count, H, W), uniform noise on these units."""
        if self.segments is not None:
            values = rng.random((count, int(self.segments.max()) + 1))  # (count, M)
            return values[:, self.segments].astype(np.float32)
        assert self.grid is not None
        return random_maps(rng, self.grid, self.size, count)


def method_units(method: Method, given: ExplainInput) -> Units:
    """The units of `method`'s map of `given`, with its default parameters."""
    height, width = given.nchw(given.image).shape[2:]
    size = (int(height), int(width))
    params = method.Params()
    segments = method.native_segments(given, params)
    if segments is not None:
        return Units("random superpixels", size, segments=segments)
    grid = method.native_grid(given, params)
    return Units(grid_name(grid, size), size, grid=grid)


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
