"""Sigmoid: dX = g * y * (1 - y), from the forward output y."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    y = node.output[0]
    slope = ctx.emit("Mul", [y, ctx.emit("Sub", [ctx.const(1.0), y])])
    return [ctx.emit("Mul", [grads[0], slope])]
