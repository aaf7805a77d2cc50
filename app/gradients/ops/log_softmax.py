"""LogSoftmax (opset 13+, one axis): dX = g - exp(y) * sum(g, axis)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if ctx.facts.opset < 13:
        raise UnsupportedOpError(node.op_type, node.name, "opset < 13 (2-D coercion)")
    y, grad = node.output[0], grads[0]
    axis = ctx.ints([node_attr(node, "axis", -1)])
    total = ctx.emit("ReduceSum", [grad, axis], keepdims=1)
    return [ctx.emit("Sub", [grad, ctx.emit("Mul", [ctx.emit("Exp", [y]), total])])]
