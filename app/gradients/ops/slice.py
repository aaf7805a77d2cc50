"""Slice: put the gradient back where the slice came from, zeros elsewhere.

For each sliced axis the gradient gets one zero slot appended (Pad), then a Gather maps
every input position to its place in the slice, or to the zero slot. Any steps work;
starts/ends/axes/steps must be constants and the sliced axes static.
"""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.context import INT64_MAX, BackwardContext, node_input
from app.gradients.errors import UnsupportedOpError


def _constant(ctx: BackwardContext, node: onnx.NodeProto, index: int, default) -> list[int]:
    name = node_input(node, index)
    if not name:
        return default
    value = ctx.value(name)
    if value is None:
        raise UnsupportedOpError(node.op_type, node.name, "slice bounds computed at run time")
    return value.tolist()


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, grad = node.input[0], grads[0]
    dims = ctx.known_shape(x, node)
    rank = len(dims)
    starts, ends = _constant(ctx, node, 1, None), _constant(ctx, node, 2, None)
    axes = _constant(ctx, node, 3, list(range(len(starts))))
    steps = _constant(ctx, node, 4, [1] * len(starts))
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        axis %= rank
        if start == 0 and step == 1 and end >= INT64_MAX // 2:
            continue  # the whole axis is kept (also fine for a dynamic batch axis)
        size = dims[axis]
        if not isinstance(size, int):
            raise UnsupportedOpError(node.op_type, node.name, "slicing a dynamic axis")
        picked = range(size)[slice(start, end, step)]
        where = np.full(size, len(picked), dtype=np.int64)  # the zero slot
        where[list(picked)] = np.arange(len(picked))
        pads = [0] * (2 * rank)
        pads[rank + axis] = 1
        padded = ctx.emit("Pad", [grad, ctx.ints(pads)])
        grad = ctx.emit("Gather", [padded, ctx.const(where, np.int64)], axis=axis)
    return [grad]
