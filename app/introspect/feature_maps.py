"""Feature maps: one layer's activations for one image, as a labelled grid of channels.

Each channel is min-max normalised on its own (a constant channel is black) and colour-mapped;
each tile is labelled with its channel index. `order="mean"` shows the channels by mean
activation, highest first; `order="none"` keeps the graph's order. The raw activations are
always returned in the graph's channel order.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from app.imaging.heatmap import colourise
from app.introspect.grid import columns_for, magnification, tile_grid

Order = Literal["none", "mean"]
MIN_TILE = 48  # pixels, so that the label fits


def channel_order(activation: np.ndarray, order: Order) -> np.ndarray:
    """Channel indices in display order for an activation (C, H, W)."""
    if order == "mean":
        means = activation.reshape(len(activation), -1).mean(axis=1)  # (C,)
        return np.argsort(-means, kind="stable")
    return np.arange(len(activation))


def channel_stats(activation: np.ndarray, order: np.ndarray) -> list[dict]:
    """[{index, mean, max}] of an activation (C, H, W), in display order."""
    flat = activation.reshape(len(activation), -1)  # (C, H*W)
    return [
        {"index": int(i), "mean": float(flat[i].mean()), "max": float(flat[i].max())} for i in order
    ]


def feature_grid(activation: np.ndarray, order: np.ndarray, colormap: str = "viridis"):
    """The channels of an activation (C, H, W) as one labelled picture, in `order`."""
    tiles = np.stack([colourise(activation[i], colormap) for i in order])  # (C, H, W, 3)
    scale = magnification(activation.shape[1], activation.shape[2], MIN_TILE)
    return tile_grid(tiles, columns_for(len(order)), scale, [str(int(i)) for i in order])


def as_maps(activation: np.ndarray) -> np.ndarray:
    """One image's activation as (C, H, W): (C,) dense outputs become (C, 1, 1)."""
    if activation.ndim == 1:
        return activation[:, None, None]
    if activation.ndim != 3:
        raise ValueError(f"expected (C, H, W) or (C,), got {activation.shape}")
    return activation
