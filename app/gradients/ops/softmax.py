"""Softmax (opset 13+, one axis): dX = y * (g - sum(g * y, axis))."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if ctx.facts.opset < 13:
        raise UnsupportedOpError(node.op_type, node.name, "opset < 13 (2-D coercion)")
    y, grad = node.output[0], grads[0]
    axis = ctx.ints([node_attr(node, "axis", -1)])
    weighted = ctx.emit("ReduceSum", [ctx.emit("Mul", [grad, y]), axis], keepdims=1)
    return [ctx.emit("Mul", [y, ctx.emit("Sub", [grad, weighted])])]
