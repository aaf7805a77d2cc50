"""Gelu (opset 20), as torch's gelu_backward.

approximate="none": y = x * Phi(x), dX = g * (Phi(x) + x * phi(x)).
approximate="tanh": y = x/2 * (1 + tanh(u)), u = sqrt(2/pi) * (x + 0.044715 x^3),
dX = g * (1/2 * (1 + tanh(u)) + x/2 * (1 - tanh(u)^2) * du/dx).
"""

from __future__ import annotations

import math

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError

KAPPA, CUBIC = math.sqrt(2.0 / math.pi), 0.044715


def _exact_slope(ctx: BackwardContext, x: str) -> str:
    cdf = ctx.scale(ctx.emit("Add", [ctx.emit("Erf", [ctx.scale(x, 1 / math.sqrt(2))]),
                                     ctx.const(1.0)]), 0.5)  # fmt: skip
    pdf = ctx.scale(ctx.emit("Exp", [ctx.scale(ctx.emit("Mul", [x, x]), -0.5)]),
                    1 / math.sqrt(2 * math.pi))  # fmt: skip
    return ctx.emit("Add", [cdf, ctx.emit("Mul", [x, pdf])])


def _tanh_slope(ctx: BackwardContext, x: str) -> str:
    square = ctx.emit("Mul", [x, x])
    inner = ctx.emit("Mul", [x, ctx.emit("Add", [ctx.scale(square, CUBIC), ctx.const(1.0)])])
    t = ctx.emit("Tanh", [ctx.scale(inner, KAPPA)])
    du = ctx.scale(ctx.emit("Add", [ctx.scale(square, 3 * CUBIC), ctx.const(1.0)]), KAPPA)
    left = ctx.scale(ctx.emit("Add", [t, ctx.const(1.0)]), 0.5)
    sech2 = ctx.emit("Sub", [ctx.const(1.0), ctx.emit("Mul", [t, t])])
    right = ctx.emit("Mul", [ctx.scale(x, 0.5), ctx.emit("Mul", [sech2, du])])
    return ctx.emit("Add", [left, right])


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    approximate = node_attr(node, "approximate", "none")
    if approximate not in ("none", "tanh"):
        raise UnsupportedOpError(node.op_type, node.name, f"approximate={approximate}")
    slope = (_exact_slope if approximate == "none" else _tanh_slope)(ctx, node.input[0])
    return [ctx.emit("Mul", [grads[0], slope])]
