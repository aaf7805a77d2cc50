"""Mul: dA = g * B, dB = g * A, each summed over its broadcast axes."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    a, b = node.input
    out, grad = node.output[0], grads[0]
    result: list = [None, None]
    if ctx.needs(a):
        result[0] = unbroadcast(ctx, node, ctx.emit("Mul", [grad, b]), a, out)
    if ctx.needs(b):
        result[1] = unbroadcast(ctx, node, ctx.emit("Mul", [grad, a]), b, out)
    return result
