"""ReduceSum: broadcast the gradient back over the reduced axes."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.ops.reduce_mean import reduced_axes


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, grad = node.input[0], grads[0]
    axes = reduced_axes(ctx, node, ctx.rank(x, node))
    if not axes:
        return [grad]
    if not node_attr(node, "keepdims", 1):
        grad = ctx.emit("Unsqueeze", [grad, ctx.ints(axes)])
    return [ctx.emit("Expand", [grad, ctx.runtime_shape(x)])]
