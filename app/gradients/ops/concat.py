"""Concat: split the gradient along the axis into the inputs' sizes (read at run time)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    axis = node_attr(node, "axis") % ctx.rank(node.output[0], node)
    sizes = [ctx.emit("Shape", [x], start=axis, end=axis + 1) for x in node.input]
    split = ctx.emit("Concat", sizes, axis=0)  # (len(inputs),)
    pieces = ctx.emit("Split", [grads[0], split], n_outputs=len(node.input), axis=axis)
    pieces = pieces if len(node.input) > 1 else [pieces]
    return [piece if ctx.needs(x) else None for x, piece in zip(node.input, pieces, strict=True)]
