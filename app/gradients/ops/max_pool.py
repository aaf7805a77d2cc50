"""MaxPool: the gradient goes to the first maximum of each window.

Small 2-D windows find it by comparison (app/gradients/first_maxima.py). Other pools go
through Indices: the pool is re-run with its Indices output (flat positions in N*C*H*W).
Windows that do not overlap (kernel <= stride, no dilation) have distinct indices, so one
MaxUnpool places the gradient (where onnxruntime's MaxUnpool takes the geometry);
otherwise ScatterElements(reduction="add") sums what overlapping windows send.
"""

from __future__ import annotations

import onnx
from onnx import helper

from app.gradients import first_maxima
from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError
from app.gradients.windows import refuse_uncounted_windows, resolve_pads


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if len(node.output) > 1 and grads[1] is not None:
        raise UnsupportedOpError(node.op_type, node.name, "gradient through Indices")
    refuse_uncounted_windows(ctx, node)
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
        pads = unpool_pads(ctx, node, kernel, strides)
        if pads is not None:
            inputs = [grad, indices, ctx.runtime_shape(x)]
            return ctx.emit("MaxUnpool", inputs, kernel_shape=kernel, strides=strides, pads=pads)
    flat = ctx.ints([-1])
    zeros = ctx.emit("Reshape", [ctx.zeros_like(x), flat])  # (N*C*H*W,)
    scattered = ctx.emit(
        "ScatterElements",
        [zeros, ctx.emit("Reshape", [indices, flat]), ctx.emit("Reshape", [grad, flat])],
        axis=0,
        reduction="add",
    )
    return ctx.reshape_like(scattered, x)


def unpool_pads(ctx: BackwardContext, node: onnx.NodeProto, kernel, strides) -> list | None:
    """Pads for a MaxUnpool to x's runtime shape: they only need to keep the implied size <= x's.
    None where onnxruntime's MaxUnpool refuses them (a pad as large as the kernel, an implied
    size of 0: a padded map of one row)."""
    sizes = list(ctx.static_dims(node.input[0], node)[2:])
    out_sizes = list(ctx.static_dims(node.output[0], node)[2:])
    n = len(kernel)
    pads = resolve_pads(node, sizes, kernel, strides, [1] * n)
    for i in range(n):
        implied = (out_sizes[i] - 1) * strides[i] + kernel[i] - pads[i] - pads[n + i]
        if implied <= 0:
            return None
        pads[n + i] += max(0, implied - sizes[i])
    return pads if all(p < k for p, k in zip(pads, kernel * 2, strict=True)) else None
