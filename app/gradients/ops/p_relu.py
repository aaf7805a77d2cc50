"""PRelu: g where x > 0, else slope * g (slope broadcast; its own gradient is not needed)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, slope = node.input
    grad = grads[0]
    positive = ctx.emit("Greater", [x, ctx.const(0.0)])
    return [ctx.emit("Mul", [grad, ctx.chosen(positive, ctx.const(1.0), slope)]), None]
