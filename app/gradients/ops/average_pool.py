"""AveragePool: each output's gradient, divided by its window's divisor, spread over the window.

The divisor follows torch's avg_pool: windows are clipped to the padded input; with
count_include_pad the clipped window size counts, without it only the real elements.
The spreading is a depthwise ConvTranspose with a ones kernel.
"""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError
from app.gradients.windows import (
    refuse_uncounted_windows,
    resolve_pads,
    scatter_windows,
    window_attrs,
)


def divisors(sizes, out_sizes, kernel, strides, pads, include_pad: bool) -> np.ndarray:
    """Divisor of every output position, shape (1, 1, *out_sizes)."""
    n = len(kernel)
    result = np.ones([1, 1], dtype=np.float64)
    for i in range(n):
        starts = np.arange(out_sizes[i]) * strides[i] - pads[i]  # (O,)
        ends = np.minimum(starts + kernel[i], sizes[i] + pads[n + i])
        counts = (
            ends - starts if include_pad else np.minimum(ends, sizes[i]) - np.maximum(starts, 0)
        )
        result = np.multiply.outer(result, counts)
    return result.reshape([1, 1, *out_sizes]).astype(np.float32)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    refuse_uncounted_windows(ctx, node)
    x_dims = ctx.static_dims(node.input[0], node)  # (N, C, *sizes)
    out_sizes = list(ctx.static_dims(node.output[0], node)[2:])
    kernel = list(node_attr(node, "kernel_shape"))
    strides, dilations = window_attrs(node, kernel)
    if any(d != 1 for d in dilations):
        raise UnsupportedOpError(node.op_type, node.name, "dilations")
    sizes = list(x_dims[2:])
    pads = resolve_pads(node, sizes, kernel, strides, dilations)
    include_pad = bool(node_attr(node, "count_include_pad", 0))
    scaled = ctx.emit(
        "Div", [grads[0], ctx.const(divisors(sizes, out_sizes, kernel, strides, pads, include_pad))]
    )
    channels = x_dims[1]
    ones = ctx.const(np.ones([channels, 1, *kernel]))  # (C, 1, *kernel)
    geometry = {
        "kernel": kernel,
        "strides": strides,
        "dilations": dilations,
        "pads": pads,
        "group": channels,
    }
    return [scatter_windows(ctx, scaled, ones, sizes, out_sizes, geometry)]
