"""Sliding-window geometry shared by Conv and AveragePool backward rules."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.errors import UnsupportedOpError


def window_attrs(node: onnx.NodeProto, kernel: list[int]) -> tuple[list[int], list[int]]:
    """(strides, dilations) of a windowed op, with ONNX defaults."""
    n = len(kernel)
    return list(node_attr(node, "strides", [1] * n)), list(node_attr(node, "dilations", [1] * n))


def resolve_pads(
    node: onnx.NodeProto, sizes: list[int], kernel: list[int], strides: list[int], dilations
) -> list[int]:
    """Explicit [begins..., ends...] pads, resolving auto_pad."""
    n = len(kernel)
    auto_pad = node_attr(node, "auto_pad", "NOTSET")
    if auto_pad == "NOTSET":
        return list(node_attr(node, "pads", [0] * (2 * n)))
    if auto_pad == "VALID":
        return [0] * (2 * n)
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise UnsupportedOpError(node.op_type, node.name, f"auto_pad {auto_pad}")
    begins, ends = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins + ends


def pooled_sizes(
    node: onnx.NodeProto, sizes: list[int], kernel: list[int], strides: list[int], dilations
) -> list[int]:
    """The windows per axis of a pool, as onnxruntime and torch count them: with ceil_mode, a
    last window that would start in the end padding is dropped. Shape inference before opset
    22 keeps it, so a model's static shapes may hold one window more than its runtime tensors."""
    n = len(kernel)
    pads = resolve_pads(node, sizes, kernel, strides, dilations)
    ceil = bool(node_attr(node, "ceil_mode", 0))
    counts = []
    for i in range(n):
        span = sizes[i] + pads[i] + pads[n + i] - (kernel[i] - 1) * dilations[i] - 1
        count = (-(-span // strides[i]) if ceil else span // strides[i]) + 1
        if ceil and (count - 1) * strides[i] >= sizes[i] + pads[i]:
            count -= 1
        counts.append(count)
    return counts


def refuse_uncounted_windows(ctx: BackwardContext, node: onnx.NodeProto) -> None:
    """Refuse a pool whose static output shape holds windows the runtime does not pool (see
    pooled_sizes): its rule and every rule after it would read the wrong sizes."""
    x, y = ctx.shape(node.input[0]), ctx.shape(node.output[0])
    sizes = [d for d in (x or ())[2:] if isinstance(d, int)]
    out = [d for d in (y or ())[2:] if isinstance(d, int)]
    if x is None or y is None or len(sizes) != len(x) - 2 or len(out) != len(y) - 2:
        return  # no static sizes for a rule to misread
    kernel = list(node_attr(node, "kernel_shape"))
    strides, dilations = window_attrs(node, kernel)
    if pooled_sizes(node, sizes, kernel, strides, dilations) != out:
        reason = "a ceil_mode window in the end padding, counted by shape inference before opset 22"
        raise UnsupportedOpError(node.op_type, node.name, reason)


def scatter_windows(
    ctx: BackwardContext,
    grad: str,  # (N, M, *out_sizes)
    weight: str,  # (M, C / group, *kernel)
    sizes: list[int],
    out_sizes: list[int],
    geometry: dict,
) -> str:
    """ConvTranspose sending every output position's gradient back over its window.

    `geometry` holds kernel, strides, pads, dilations and group of the forward op. Input
    positions past the last window get zeros (output_padding); windows running past the
    padded input (ceil_mode) are cropped by extra end padding. Returns (N, C, *sizes).
    """
    kernel, strides, dilations = geometry["kernel"], geometry["strides"], geometry["dilations"]
    n = len(kernel)
    begins, ends = list(geometry["pads"][:n]), list(geometry["pads"][n:])
    output_padding = []
    for i in range(n):
        covered = strides[i] * (out_sizes[i] - 1) + (kernel[i] - 1) * dilations[i] + 1
        spare = sizes[i] + begins[i] + ends[i] - covered
        output_padding.append(max(spare, 0))
        ends[i] += max(-spare, 0)
    attrs = {"strides": strides, "dilations": dilations, "group": geometry["group"]}
    return ctx.emit(
        "ConvTranspose", [grad, weight], pads=begins + ends, output_padding=output_padding, **attrs
    )
