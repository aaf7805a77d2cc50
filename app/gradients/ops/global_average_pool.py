"""GlobalAveragePool: dX = g / (H * W), broadcast over the spatial axes."""

from __future__ import annotations

import math

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x = node.input[0]
    sizes = ctx.static_dims(x, node)[2:]  # (N, C, *sizes)
    scaled = ctx.scale(grads[0], 1.0 / math.prod(sizes))  # (N, C, 1, ...)
    return [ctx.emit("Expand", [scaled, ctx.runtime_shape(x)])]
