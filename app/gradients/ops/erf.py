"""Erf (the exact GELU's building block): dX = g * 2 / sqrt(pi) * exp(-x^2)."""

from __future__ import annotations

import math

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x = node.input[0]
    bell = ctx.emit("Exp", [ctx.emit("Neg", [ctx.emit("Mul", [x, x])])])  # exp(-x^2)
    return [ctx.emit("Mul", [grads[0], ctx.scale(bell, 2.0 / math.sqrt(math.pi))])]
