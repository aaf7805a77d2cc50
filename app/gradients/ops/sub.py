"""Sub: dA = g, dB = -g, each summed over its broadcast axes."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    a, b = node.input
    out, grad = node.output[0], grads[0]
    grad_a = unbroadcast(ctx, node, grad, a, out) if ctx.needs(a) else None
    grad_b = None
    if ctx.needs(b):
        grad_b = unbroadcast(ctx, node, ctx.emit("Neg", [grad]), b, out)
    return [grad_a, grad_b]
