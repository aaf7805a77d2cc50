"""ReduceMean: dX = g / count, broadcast back over the reduced axes."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto

from app.gradients.context import BackwardContext, node_attr, node_input
from app.gradients.errors import UnsupportedOpError


def reduced_axes(ctx: BackwardContext, node: onnx.NodeProto, rank: int) -> list[int]:
    """Normalised axes of a Reduce* node (attribute before opset 18, input after)."""
    axes = node_attr(node, "axes")
    if axes is None and node_input(node, 1):
        value = ctx.value(node.input[1])
        if value is None:
            raise UnsupportedOpError(node.op_type, node.name, "axes computed at run time")
        axes = value.tolist()
    if not axes:
        return [] if node_attr(node, "noop_with_empty_axes", 0) else list(range(rank))
    return sorted(a % rank for a in axes)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, grad = node.input[0], grads[0]
    dims = ctx.known_shape(x, node)
    axes = reduced_axes(ctx, node, len(dims))
    if not axes:
        return [grad]
    if not node_attr(node, "keepdims", 1):
        grad = ctx.emit("Unsqueeze", [grad, ctx.ints(axes)])
    sizes = [dims[a] for a in axes]
    static = [size for size in sizes if isinstance(size, int)]
    if len(static) == len(sizes):
        scaled = ctx.scale(grad, 1.0 / float(np.prod(static)))
    else:  # a dynamic axis (the batch) is reduced: count the elements at run time
        runtime = ctx.emit("Gather", [ctx.runtime_shape(x), ctx.ints(axes)])
        count = ctx.emit("ReduceProd", [runtime], keepdims=0)
        scaled = ctx.emit("Div", [grad, ctx.emit("Cast", [count], to=TensorProto.FLOAT)])
    return [ctx.emit("Expand", [scaled, ctx.runtime_shape(x)])]
