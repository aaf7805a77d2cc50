"""Conv: the input gradient is a ConvTranspose with the same weights, or for a stride-1 Conv
with constant weights, a Conv with the weights flipped (onnxruntime's Conv is faster), unless
its input is narrow (an image's 1-3 channels); for a strided depthwise Conv with a large
kernel, one small Conv per stride phase (app/gradients/polyphase.py)."""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients import polyphase
from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError
from app.gradients.windows import resolve_pads, scatter_windows, window_attrs

# Below this many input channels per group (the gradient's output channels), ConvTranspose was
# as fast or faster; from 8 on, and for depthwise convs (1 in, 1 out per group: up to 15x),
# the flipped Conv was faster (bench: onnxruntime 1.32 CPU, 2 threads, the convs of mnist_cnn,
# ResNet-18 and EfficientNet-Lite0). Strided convs keep ConvTranspose: a polyphase Conv (one
# stride-1 Conv per phase, interleaved) was slower on all of theirs (zero-padded phase
# kernels, or a Concat and a Transpose of the phases).
FLIPPED_CONV_MIN_CHANNELS = 8


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
    flipped = flipped_conv(ctx, grads[0], weight, geometry)
    if flipped is not None:
        return [flipped]
    if polyphase.applies(ctx.value(weight), geometry):
        phased = polyphase.polyphase(ctx, grads[0], weight, sizes, list(y_dims[2:]), geometry)
        if phased is not None:
            return [phased]
    return [scatter_windows(ctx, grads[0], weight, sizes, list(y_dims[2:]), geometry)]


def flipped_conv(ctx: BackwardContext, grad: str, weight_name: str, geometry: dict) -> str | None:
    """dX of a stride-1 Conv as Conv(grad, W'), or None where ConvTranspose is used.

    W' (C, M / group, *kernel) is W with in/out channels swapped within each group and the
    kernel flipped; pads become dilation * (k - 1) - pad, so dX has the input's size.
    """
    weight = ctx.value(weight_name)
    kernel, dilations, group = geometry["kernel"], geometry["dilations"], geometry["group"]
    n = len(kernel)
    reach = [d * (k - 1) for k, d in zip(kernel, dilations, strict=True)]
    pads = [reach[i % n] - p for i, p in enumerate(geometry["pads"])]
    if weight is None or any(s != 1 for s in geometry["strides"]) or min(pads) < 0:
        return None
    out_channels, in_per_group = weight.shape[:2]
    depthwise = group > 1 and in_per_group == 1 and out_channels == group
    if in_per_group < FLIPPED_CONV_MIN_CHANNELS and not depthwise:
        return None

    def flip() -> np.ndarray:  # (C, M / group, *kernel)
        grouped = weight.reshape(group, out_channels // group, in_per_group, *kernel)
        swapped = grouped.swapaxes(1, 2).reshape(
            group * in_per_group, out_channels // group, *kernel
        )
        return np.flip(swapped, axis=tuple(range(2, 2 + n)))

    flipped = ctx.shared_const(("flipped", weight_name), flip)
    return ctx.emit("Conv", [grad, flipped], pads=pads, dilations=dilations, group=group)
