"""Pow with an exponent off the gradient path (the x^2 of older LayerNorm exports):
dX = g * p * x^(p - 1), summed over broadcast axes."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, power = node.input
    if ctx.needs(power):
        return [None, None]  # a gradient through the exponent: backpropagate refuses it
    exponent = ctx.emit("CastLike", [power, x])  # an integer exponent in x's type
    lowered = ctx.emit("Pow", [x, ctx.emit("Sub", [exponent, ctx.const(1.0)])])
    slope = ctx.emit("Mul", [exponent, lowered])  # p * x^(p - 1)
    return [unbroadcast(ctx, node, ctx.emit("Mul", [grads[0], slope]), x, node.output[0]), None]
