"""Div: dA = g / B, dB = -g * A / B^2, each summed over its broadcast axes."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    a, b = node.input
    out, grad = node.output[0], grads[0]
    result: list = [None, None]
    quotient = ctx.emit("Div", [grad, b])  # g / B
    if ctx.needs(a):
        result[0] = unbroadcast(ctx, node, quotient, a, out)
    if ctx.needs(b):
        ratio = ctx.emit("Div", [ctx.emit("Mul", [quotient, a]), b])  # g * A / B^2
        result[1] = unbroadcast(ctx, node, ctx.emit("Neg", [ratio]), b, out)
    return result
