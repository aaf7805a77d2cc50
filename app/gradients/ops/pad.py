"""Pad (constant mode): slice the padding off the gradient; re-pad what a negative pad cut."""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.context import INT64_MAX, BackwardContext, node_attr, node_input
from app.gradients.errors import UnsupportedOpError


def full_pads(ctx: BackwardContext, node: onnx.NodeProto, rank: int) -> list[int]:
    """[begins..., ends...] over all axes (pads input, pads attribute, optional axes)."""
    pads = node_attr(node, "pads")
    if pads is None:
        value = ctx.value(node_input(node, 1))
        if value is None:
            raise UnsupportedOpError(node.op_type, node.name, "pads computed at run time")
        pads = value.tolist()
    axes_value = ctx.value(node_input(node, 3))
    axes = list(range(rank)) if axes_value is None else [a % rank for a in axes_value.tolist()]
    result = [0] * (2 * rank)
    for i, axis in enumerate(axes):
        result[axis], result[rank + axis] = pads[i], pads[len(axes) + i]
    return result


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if node_attr(node, "mode", "constant") != "constant":
        raise UnsupportedOpError(node.op_type, node.name, "mode other than constant")
    if node_input(node, 3) and ctx.value(node.input[3]) is None:
        raise UnsupportedOpError(node.op_type, node.name, "axes computed at run time")
    rank = ctx.rank(node.input[0], node)
    pads = np.array(full_pads(ctx, node, rank))
    grad = grads[0]
    if (pads < 0).any():
        grad = ctx.emit("Pad", [grad, ctx.ints(np.maximum(-pads, 0))])
    kept = np.maximum(pads, 0)
    ends = [-e if e else INT64_MAX for e in kept[rank:]]
    sliced = ctx.emit("Slice", [grad, ctx.ints(kept[:rank]), ctx.ints(ends), ctx.ints(range(rank))])
    return [sliced]
