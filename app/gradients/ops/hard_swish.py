"""HardSwish: y = x * clip(x / 6 + 1/2, 0, 1).

dX = 0 for x < -3, g * (x / 3 + 1/2) for -3 <= x <= 3, g above (torch's hardswish_backward).
"""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, grad = node.input[0], grads[0]
    ramp = ctx.emit("Add", [ctx.scale(x, 1.0 / 3.0), ctx.const(0.5)])
    below = ctx.emit("Less", [x, ctx.const(-3.0)])
    slope = ctx.chosen(below, ctx.const(0.0), ramp)
    slope = ctx.chosen(ctx.emit("Greater", [x, ctx.const(3.0)]), ctx.const(1.0), slope)
    return [ctx.emit("Mul", [grad, slope])]
