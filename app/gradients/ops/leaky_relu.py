"""LeakyRelu: g where x > 0, else alpha * g (torch's convention at 0)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, grad = node.input[0], grads[0]
    positive = ctx.emit("Greater", [x, ctx.const(0.0)])
    alpha = ctx.const(node_attr(node, "alpha", 0.01))
    return [ctx.emit("Mul", [grad, ctx.chosen(positive, ctx.const(1.0), alpha)])]
