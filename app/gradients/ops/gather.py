"""Gather with constant indices (a ViT's class token, a channel pick): each picked slice's
gradient goes back to where it came from, summed where an index repeats.

With M the one-hot (L, S) matrix of the L flattened indices into the S positions of `axis`,
the gradient reshaped to (..., L, rest) is multiplied by M^T, giving (..., S, rest), which is
the input's shape once reshaped.
"""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, indices = node.input
    dims = ctx.known_shape(x, node)
    axis = node_attr(node, "axis", 0) % len(dims)
    picked, size = ctx.value(indices), dims[axis]
    if picked is None or not isinstance(size, int):
        raise UnsupportedOpError(node.op_type, node.name, "indices computed at run time")
    flat = picked.reshape(-1) % size  # negative indices count from the end
    one_hot_t = np.zeros((size, len(flat)), dtype=np.float32)  # M^T: (S, L)
    one_hot_t[flat, np.arange(len(flat))] = 1.0
    rows = ctx.emit("Reshape", [grads[0], ctx.ints([0] * axis + [len(flat), -1])])  # (..., L, rest)
    spread = ctx.emit("MatMul", [ctx.const(one_hot_t), rows])  # (..., S, rest)
    return [ctx.reshape_like(spread, x), None]
