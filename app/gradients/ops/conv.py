"""Conv: the input gradient is a ConvTranspose with the same weights."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError
from app.gradients.windows import resolve_pads, scatter_windows, window_attrs


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, weight = node.input[0], node.input[1]
    x_dims = ctx.static_dims(x, node)  # (N, C, *sizes)
    y_dims = ctx.static_dims(node.output[0], node)  # (N, M, *out_sizes)
    weight_shape = ctx.shape(weight)  # (M, C / group, *kernel)
    if weight_shape is None or not all(isinstance(d, int) for d in weight_shape):
        raise UnsupportedOpError(node.op_type, node.name, "weights need a static shape")
    kernel = list(node_attr(node, "kernel_shape", weight_shape[2:]))
    strides, dilations = window_attrs(node, kernel)
    sizes = list(x_dims[2:])
    geometry = {
        "kernel": kernel,
        "strides": strides,
        "dilations": dilations,
        "pads": resolve_pads(node, sizes, kernel, strides, dilations),
        "group": node_attr(node, "group", 1),
    }
    return [scatter_windows(ctx, grads[0], weight, sizes, list(y_dims[2:]), geometry)]
