"""Tanh: dX = g * (1 - y^2), from the forward output y."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    y = node.output[0]
    slope = ctx.emit("Sub", [ctx.const(1.0), ctx.emit("Mul", [y, y])])
    return [ctx.emit("Mul", [grads[0], slope])]
