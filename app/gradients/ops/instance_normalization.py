"""InstanceNormalization: each (sample, channel) normalised over its spatial axes, then
scaled per channel (GroupNorm with one group exports this way); see normalization.py."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.normalization import normalized_gradient


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, scale = node.input[0], node.input[1]
    rank = ctx.rank(x, node)
    per_channel = ctx.emit("Reshape", [scale, ctx.ints([1, -1] + [1] * (rank - 2))])
    scaled = ctx.emit("Mul", [grads[0], per_channel])
    epsilon = node_attr(node, "epsilon", 1e-5)
    return [normalized_gradient(ctx, x, scaled, list(range(2, rank)), epsilon), None, None]
