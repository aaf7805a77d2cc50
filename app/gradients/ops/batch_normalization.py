"""BatchNormalization (inference): dX = g * scale / sqrt(var + epsilon), per channel."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if node_attr(node, "training_mode", 0) or len(node.output) > 1:
        raise UnsupportedOpError(node.op_type, node.name, "training mode")
    x, scale, _, _, var = node.input
    epsilon = ctx.const(node_attr(node, "epsilon", 1e-5))
    factor = ctx.emit("Div", [scale, ctx.emit("Sqrt", [ctx.emit("Add", [var, epsilon])])])  # (C,)
    rank = ctx.rank(x, node)
    per_channel = ctx.emit("Reshape", [factor, ctx.ints([1, -1] + [1] * (rank - 2))])
    return [ctx.emit("Mul", [grads[0], per_channel])]
