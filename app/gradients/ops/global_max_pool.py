"""GlobalMaxPool: the gradient goes to the first maximum of each channel (as torch)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x = node.input[0]
    ctx.static_dims(x, node)
    rows = ctx.emit("Reshape", [x, ctx.ints([0, 0, -1])])  # (N, C, H*W)
    first = ctx.emit("ArgMax", [rows], axis=2, keepdims=1, select_last_index=0)  # (N, C, 1)
    grad = ctx.emit("Reshape", [grads[0], ctx.ints([0, 0, 1])])  # (N, C, 1)
    zeros = ctx.emit("ConstantOfShape", [ctx.emit("Shape", [rows])])
    scattered = ctx.emit("ScatterElements", [zeros, first, grad], axis=2)
    return [ctx.reshape_like(scattered, x)]
