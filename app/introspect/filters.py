"""Filters: a convolution's weights (out, in, k_h, k_w) as a grid of tiles.

Every filter is normalised on its own (min-max over its inputs and kernel), so tiles compare
within a filter. The modes:
- `rgb`: a first layer reading a 3-channel image shows one colour tile per filter;
- `each`: one grey tile per (out, in) pair, each filter's `in` tiles side by side, as many
  filters to a row as make the grid closest to square (a filter per row when it has many
  inputs; a square of single tiles for a first layer on a grey image);
- `mean`: one grey tile per filter, the mean over its inputs.
`auto` picks `rgb` where it applies, else `each`, else `mean` when there would be more than
MAX_PAIR_TILES pairs.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import onnx
from onnx import numpy_helper
from PIL import Image

from app.errors import UnknownLayerError
from app.introspect.grid import columns_for, groups_per_row, magnification, tile_grid

Mode = Literal["auto", "rgb", "each", "mean"]
MAX_PAIR_TILES = 4096
MIN_TILE = 24  # pixels


class FilterError(UnknownLayerError):
    """The layer is not a convolution with constant weights, or the mode does not apply."""


def conv_node(model: onnx.ModelProto, layer: str) -> onnx.NodeProto:
    """The Conv node whose output tensor, or name, is `layer`."""
    for node in model.graph.node:
        if node.op_type == "Conv" and layer in (node.name, node.output[0]):
            return node
    raise FilterError(f"'{layer}' is neither the output nor the name of a Conv node.")


def conv_weights(model: onnx.ModelProto, node: onnx.NodeProto) -> np.ndarray:
    """The node's weights (out, in / groups, k_h, k_w), from an initializer or a Constant."""
    name = node.input[1]
    for init in model.graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init).astype(np.float32)
    for other in model.graph.node:
        if other.op_type == "Constant" and other.output[0] == name:
            return numpy_helper.to_array(other.attribute[0].t).astype(np.float32)
    raise FilterError(f"the weights of '{node.name}' are computed at run time, not stored.")


def pick_mode(weights: np.ndarray, reads_image: bool, requested: Mode) -> str:
    """The mode to draw `weights` (out, in, k_h, k_w) in (see the module docstring)."""
    rgb_ok = reads_image and weights.shape[1] == 3
    if requested == "rgb" and not rgb_ok:
        raise FilterError("rgb needs a first layer reading a 3-channel image.")
    if requested != "auto":
        return requested
    if rgb_ok:
        return "rgb"
    return "each" if weights.shape[0] * weights.shape[1] <= MAX_PAIR_TILES else "mean"


def normalise_filters(weights: np.ndarray) -> np.ndarray:
    """Min-max each filter (out, ...) to [0, 1]; a constant filter becomes 0.5."""
    flat = weights.reshape(len(weights), -1).astype(np.float64)  # (out, in*k_h*k_w)
    low, high = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    span = np.where(high > low, high - low, 1.0)
    unit = np.where(high > low, (flat - low) / span, 0.5)
    return unit.reshape(weights.shape)


def filter_grid(weights: np.ndarray, mode: str) -> Image.Image:
    """The picture of `weights` (out, in, k_h, k_w) in `mode` ('rgb', 'each' or 'mean')."""
    if mode == "mean":
        weights = weights.mean(axis=1, keepdims=True)  # (out, 1, k_h, k_w)
    unit = np.round(normalise_filters(weights) * 255).astype(np.uint8)  # (out, in, k_h, k_w)
    scale = magnification(weights.shape[2], weights.shape[3], MIN_TILE)
    if mode == "rgb":
        tiles = unit.transpose(0, 2, 3, 1)  # (out, k_h, k_w, 3)
        return tile_grid(tiles, columns_for(len(tiles)), scale)
    grey = unit.reshape(-1, *unit.shape[2:])  # (out * in, k_h, k_w)
    tiles = np.repeat(grey[..., None], 3, axis=3)  # (out * in, k_h, k_w, 3)
    if mode == "mean":
        return tile_grid(tiles, columns_for(len(tiles)), scale)
    inputs = unit.shape[1]
    per_row = groups_per_row(unit.shape[0], inputs, unit.shape[3] / unit.shape[2])
    return tile_grid(tiles, per_row * inputs, scale, group=inputs if inputs > 1 else None)
