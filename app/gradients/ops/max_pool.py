"""MaxPool: the gradient goes to the first maximum of each window.

Small 2-D windows find it by comparison (app/gradients/first_maxima.py). Other pools go
through Indices: the pool is re-run with its Indices output (flat positions in N*C*H*W).
Windows that do not overlap (kernel <= stride, no dilation) have distinct indices, so one
MaxUnpool places the gradient; otherwise ScatterElements(reduction="add") sums what
overlapping windows send.
"""

from __future__ import annotations

import onnx
from onnx import helper

from app.gradients import first_maxima
from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError
from app.gradients.windows import resolve_pads


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if len(node.output) > 1 and grads[1] is not None:
        raise UnsupportedOpError(node.op_type, node.name, "gradient through Indices")
    x, grad = node.input[0], grads[0]  # x: (N, C, *sizes); grad: (N, C, *out_sizes)
    if first_maxima.applies(ctx, node):
        return [first_maxima.route(ctx, node, grad)]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    attrs.pop("storage_order", None)
    _, indices = ctx.emit("MaxPool", [x], n_outputs=2, **attrs)
    return [route(ctx, node, grad, indices)]


def route(ctx: BackwardContext, node: onnx.NodeProto, grad: str, indices: str) -> str:
    """`grad` (shaped like the output) placed at the positions `indices` name, summed."""
    x = node.input[0]
    kernel = list(node_attr(node, "kernel_shape"))
    strides = list(node_attr(node, "strides", [1] * len(kernel)))
    dilations = list(node_attr(node, "dilations", [1] * len(kernel)))
    if all(k <= s for k, s in zip(kernel, strides, strict=True)) and set(dilations) <= {1}:
        return unpool(ctx, node, grad, indices, kernel, strides)
    flat = ctx.ints([-1])
    zeros = ctx.emit("Reshape", [ctx.zeros_like(x), flat])  # (N*C*H*W,)
    scattered = ctx.emit(
        "ScatterElements",
        [zeros, ctx.emit("Reshape", [indices, flat]), ctx.emit("Reshape", [grad, flat])],
        axis=0,
        reduction="add",
    )
    return ctx.reshape_like(scattered, x)


def unpool(ctx: BackwardContext, node: onnx.NodeProto, grad: str, indices: str, kernel, strides):
    """MaxUnpool to x's runtime shape; its pads only need to keep the implied size <= x's."""
    sizes = list(ctx.static_dims(node.input[0], node)[2:])
    out_sizes = list(ctx.static_dims(node.output[0], node)[2:])
    pads = resolve_pads(node, sizes, kernel, strides, [1] * len(kernel))
    n = len(kernel)
    for i in range(n):
        implied = (out_sizes[i] - 1) * strides[i] + kernel[i] - pads[i] - pads[n + i]
        pads[n + i] += max(0, implied - sizes[i])
    attrs = {"kernel_shape": kernel, "strides": strides, "pads": pads}
    return ctx.emit("MaxUnpool", [grad, indices, ctx.runtime_shape(node.input[0])], **attrs)
