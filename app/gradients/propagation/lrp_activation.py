"""LRP through elementwise activations: relevance passes unchanged, R_x = R_y (Captum's and
Zennit's treatment of ReLU; Zennit's Pass rule).

With R_t = t * g_t: g_x = g_y * y / x. For Relu that is the gradient (y / x = 1 where x > 0,
else 0). For clipping (ReLU6, Clip(min, max) with min <= 0 <= max) it is g_y * clip(x) / x:
relevance above the upper bound is kept, where the gradient would drop it.
"""

from __future__ import annotations

import onnx

from app.gradients.context import node_attr, node_input
from app.gradients.errors import UnsupportedOpError
from app.gradients.propagation.context import PropagationContext


def relu(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    passes = ctx.emit("Greater", [node.output[0], ctx.const(0.0)])
    return [ctx.emit("Where", [passes, grads[0], ctx.const(0.0)])]


def clip(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    low, high = _bound(ctx, node, 1, "min"), _bound(ctx, node, 2, "max")
    if (low is not None and low > 0) or (high is not None and high < 0):
        raise UnsupportedOpError(node.op_type, node.name, "LRP needs min <= 0 <= max")
    x, y = node.input[0], node.output[0]
    zero = ctx.emit("Equal", [x, ctx.const(0.0)])
    safe = ctx.emit("Where", [zero, ctx.const(1.0), x])
    return [ctx.emit("Mul", [grads[0], ctx.emit("Div", [y, safe])])]


def _bound(ctx: PropagationContext, node: onnx.NodeProto, index: int, attr: str) -> float | None:
    if node_input(node, index):
        value = ctx.value(node.input[index])
        if value is None:
            raise UnsupportedOpError(node.op_type, node.name, "LRP needs constant bounds")
        return float(value)
    value = node_attr(node, attr)
    return None if value is None else float(value)
