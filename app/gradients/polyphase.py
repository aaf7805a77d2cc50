"""A strided depthwise Conv's input gradient as stride x stride small stride-1 Convs, one per
phase of the input, woven together (phases.py), in place of a ConvTranspose.

onnxruntime's ConvTranspose with one channel per group is slow: 1.4-2.1 ms for the 5x5
stride-2 depthwise convs of EfficientNet-Lite0, against 0.5-1.0 ms for the phases (bench:
2 threads, 144x56x56 and 672x14x14). With 3x3 kernels the phases lost at 96x112x112 (their
1x1 and 2x1 kernels), so only kernels of at least MIN_KERNEL take this route.

Per axis (stride s, kernel K, front pad p, input size H, output size Ho): the input position
i = a + s * t (phase a) receives from the kernel taps k = k0, k0 + s, ... with
k0 = (a + p) mod s, each through output o = t + (a + p) // s - j for tap k0 + s * j. That is a
stride-1 correlation of the gradient with those taps reversed, padded by P = J - 1 - (a + p)
// s in front (J taps) and to the phase length T = ceil(H / s) behind.
"""

from __future__ import annotations

import math

import numpy as np

from app.gradients.context import BackwardContext
from app.gradients.phases import woven

MIN_KERNEL = 5  # per axis


def _axis(kernel: int, stride: int, pad: int, size: int, out: int, phase: int):
    """(taps in the phase kernel's order, front pad, back pad) of one axis's phase."""
    first = (phase + pad) % stride
    count = len(range(first, kernel, stride))
    taps = [first + stride * (count - 1 - m) for m in range(count)]
    front = count - 1 - (phase + pad) // stride
    back = math.ceil(size / stride) - out - front + count - 1
    return taps, front, back


def applies(weight: np.ndarray | None, geometry: dict) -> bool:
    """Whether `polyphase` handles this Conv: constant depthwise weights of at least
    MIN_KERNEL on both axes of a 2-D conv, one stride s >= 2 no larger than the kernel, no
    dilation."""
    if weight is None or weight.ndim != 4:
        return False
    kernel, strides = geometry["kernel"], geometry["strides"]
    channels, per_group = weight.shape[:2]
    depthwise = per_group == 1 and geometry["group"] == channels
    return (
        depthwise
        and min(kernel) >= MIN_KERNEL
        and strides[0] == strides[1] >= 2
        and strides[0] <= min(kernel)
        and set(geometry["dilations"]) == {1}
    )


def polyphase(
    ctx: BackwardContext, grad: str, weight_name: str, sizes, out_sizes, geometry: dict
) -> str | None:
    """dX (N, C, *sizes) of the depthwise Conv from its output gradient `grad` (N, C,
    *out_sizes); None where a phase reads no gradient at all (left to ConvTranspose)."""
    weight = ctx.value(weight_name)
    assert weight is not None
    stride, pads, kernel = geometry["strides"][0], geometry["pads"], geometry["kernel"]
    axes = [
        [_axis(kernel[d], stride, pads[d], sizes[d], out_sizes[d], a) for a in range(stride)]
        for d in range(2)
    ]
    phases = []
    for a in range(stride):
        for b in range(stride):
            (rows, top, bottom), (columns, left, right) = axes[0][a], axes[1][b]
            read = _cut(ctx, grad, [top, left], [bottom, right], out_sizes)
            if read is None:
                return None

            def taps(rows=rows, columns=columns) -> np.ndarray:  # (C, 1, rows, columns)
                return np.ascontiguousarray(weight[:, :, rows][:, :, :, columns])

            phase_kernel = ctx.shared_const(
                ("phase", weight_name, tuple(rows), tuple(columns)), taps
            )
            pads = [max(0, top), max(0, left), max(0, bottom), max(0, right)]
            attrs = {"group": geometry["group"], "kernel_shape": [len(rows), len(columns)]}
            phases.append(ctx.emit("Conv", [read, phase_kernel], pads=pads, **attrs))
    grid = [math.ceil(size / stride) for size in sizes]
    whole = woven(ctx, phases, grid, stride)  # (N, C, *grid * stride)
    if [g * stride for g in grid] == list(sizes):
        return whole
    return ctx.emit("Slice", [whole, ctx.ints([0, 0]), ctx.ints(list(sizes)), ctx.ints([2, 3])])


def _cut(ctx: BackwardContext, grad: str, fronts, backs, out_sizes) -> str | None:
    """`grad` without the rows and columns a negative pad drops (a phase whose first or last
    tap reads past them); None when nothing would be left."""
    starts = [max(0, -front) for front in fronts]
    ends = [out + min(0, back) for out, back in zip(out_sizes, backs, strict=True)]
    if any(end <= start for start, end in zip(starts, ends, strict=True)):
        return None
    if starts == [0, 0] and ends == list(out_sizes):
        return grad
    return ctx.emit("Slice", [grad, ctx.ints(starts), ctx.ints(ends), ctx.ints([2, 3])])
