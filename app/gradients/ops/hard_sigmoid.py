"""HardSigmoid: y = clip(alpha * x + beta, 0, 1); dX = alpha * g where 0 < alpha*x + beta < 1."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    alpha, beta = node_attr(node, "alpha", 0.2), node_attr(node, "beta", 0.5)
    x = node.input[0]
    linear = ctx.emit("Add", [ctx.scale(x, alpha), ctx.const(beta)])
    above = ctx.emit("Greater", [linear, ctx.const(0.0)])
    inside = ctx.emit("And", [above, ctx.emit("Less", [linear, ctx.const(1.0)])])
    return [ctx.masked(ctx.scale(grads[0], alpha), inside)]
