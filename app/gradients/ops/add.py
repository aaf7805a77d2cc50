"""Add: the gradient flows unchanged to both operands, summed over broadcast axes."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    out = node.output[0]
    return [unbroadcast(ctx, node, grads[0], x, out) if ctx.needs(x) else None for x in node.input]
