"""MaxPool: the gradient goes to the first maximum of each window, through Indices.

The pool is re-run with its Indices output (flat positions in N*C*H*W) and the gradient
scattered with ScatterElements(reduction="add"), so overlapping windows accumulate.
"""

from __future__ import annotations

import onnx
from onnx import helper

from app.gradients.context import BackwardContext
from app.gradients.errors import UnsupportedOpError


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if len(node.output) > 1 and grads[1] is not None:
        raise UnsupportedOpError(node.op_type, node.name, "gradient through Indices")
    x, grad = node.input[0], grads[0]  # x: (N, C, *sizes); grad: (N, C, *out_sizes)
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    attrs.pop("storage_order", None)
    _, indices = ctx.emit("MaxPool", [x], n_outputs=2, **attrs)
    flat = ctx.ints([-1])
    zeros = ctx.emit("Reshape", [ctx.zeros_like(x), flat])  # (N*C*H*W,)
    scattered = ctx.emit(
        "ScatterElements",
        [zeros, ctx.emit("Reshape", [indices, flat]), ctx.emit("Reshape", [grad, flat])],
        axis=0,
        reduction="add",
    )
    return [ctx.reshape_like(scattered, x)]
