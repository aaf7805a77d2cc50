"""LayerNormalization (opset 17): normalised over the axes from `axis` on, then scaled.

dX follows app/gradients/normalization.py with gs = g * scale (broadcast over the leading
axes). The optional Mean and InvStdDev outputs must not be used downstream.
"""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError
from app.gradients.normalization import normalized_gradient


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if any(grad is not None for grad in grads[1:]):
        raise UnsupportedOpError(node.op_type, node.name, "a gradient through Mean or InvStdDev")
    x, scale = node.input[0], node.input[1]
    rank = ctx.rank(x, node)
    axis = node_attr(node, "axis", -1) % rank
    scaled = ctx.emit("Mul", [grads[0], scale])
    epsilon = node_attr(node, "epsilon", 1e-5)
    return [normalized_gradient(ctx, x, scaled, list(range(axis, rank)), epsilon), None, None]
