"""MaxPool's gradient without an Indices output: each window's first maximum is found by
comparing the window's elements with the pooled output, offset by offset in scan order.

onnxruntime's MaxPool with Indices runs a scalar kernel, far slower than the plain pool of
the forward pass (ResNet-18's 3x3 stride-2 stem pool at 224: ~5.8 ms against 0.15 ms, and
~0.8 ms more for the ScatterElements after it); what replaces it here is a few dozen
vectorised ops on pool-output-sized tensors, ~5% of that explain run less in all
(bench/explain_profile.py). For a 2-D pool without dilation, with one stride for both axes
and at most MAX_OFFSETS elements per window:

1. x is padded with NaN, which equals nothing, so that every window lies inside it, and
   split into its stride x stride phases (SpaceToDepth), so that each window element below
   is a plain slice, not a strided one (onnxruntime's strided Slice is slow);
2. for each kernel offset (i, j), in row-major order (MaxPool's and torch's scan order), the
   windows' elements at that offset are compared with y: where one equals y, the offset takes
   what is left of that window's gradient and leaves nothing to later offsets, so ties go to
   the first maximum only, as in torch;
3. the offsets' shares are summed per phase (i mod stride, j mod stride), each shifted by
   (i // stride, j // stride), the phases interleaved into the padded input's grid, and the
   grid cropped to x.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import onnx

from app.gradients.context import BackwardContext, node_attr
from app.gradients.phases import woven
from app.gradients.windows import resolve_pads

MAX_OFFSETS = 16  # window elements; larger windows keep the Indices route (fewer ops there)
# Input elements per sample from which comparing is faster: a few dozen small ops cost more
# than the Indices kernel on a small map (1.2-1.3x its time at 64x24x24, 0.4-0.6x from
# 32x56x56 up, on one thread; docs/gradient-engine.md)
MIN_ELEMENTS = 2**16

Share = tuple[int, int, str]  # (row shift, column shift, an offset's share of the gradient)


def applies(ctx: BackwardContext, node: onnx.NodeProto) -> bool:
    """Whether `route` handles this MaxPool: 2-D, no dilation, a small window, the same
    stride on both axes, static sizes, a map of at least MIN_ELEMENTS."""
    kernel = list(node_attr(node, "kernel_shape"))
    if len(kernel) != 2 or math.prod(kernel) > MAX_OFFSETS:
        return False
    strides = list(node_attr(node, "strides", [1, 1]))
    if strides[0] != strides[1]:
        return False
    if any(d != 1 for d in node_attr(node, "dilations", [1, 1])):
        return False
    if not all(_static(ctx.shape(name)) for name in (node.input[0], node.output[0])):
        return False
    return math.prod(ctx.static_dims(node.input[0], node)[1:]) >= MIN_ELEMENTS


def _static(shape) -> bool:
    return shape is not None and len(shape) == 4 and all(isinstance(d, int) for d in shape[1:])


def route(ctx: BackwardContext, node: onnx.NodeProto, grad: str) -> str:
    """`grad` (N, C, *out) sent to each window's first maximum and summed: (N, C, *sizes)."""
    x, y = node.input[0], node.output[0]
    kernel = list(node_attr(node, "kernel_shape"))
    stride = list(node_attr(node, "strides", [1, 1]))[0]
    channels, *sizes = ctx.static_dims(x, node)[1:]
    out = list(ctx.static_dims(y, node)[2:])
    pads = resolve_pads(node, sizes, kernel, [stride] * 2, [1, 1])
    grid = [o + (k - 1) // stride for o, k in zip(out, kernel, strict=True)]  # phase size
    phases = _phases(ctx, x, sizes, grid, stride, pads[:2])
    shares: dict[int, list[Share]] = {}
    left = grad  # (N, C, *out): the gradient no earlier offset has taken
    offsets = list(itertools.product(range(kernel[0]), range(kernel[1])))
    for count, (i, j) in enumerate(offsets, 1):
        phase, row, column = (i % stride) * stride + j % stride, i // stride, j // stride
        starts = [phase * channels, row, column]
        ends = [(phase + 1) * channels, row + out[0], column + out[1]]
        window = ctx.emit(
            "Slice", [phases, ctx.ints(starts), ctx.ints(ends), ctx.ints([1, 2, 3])]
        )  # (N, C, *out): each window's element at offset (i, j)
        share = ctx.masked(left, ctx.emit("Equal", [window, y]))
        if count < len(offsets):
            left = ctx.emit("Sub", [left, share])
        shares.setdefault(phase, []).append((row, column, share))
    sums = [_phase_sum(ctx, shares[p], out, grid) if p in shares else "" for p in range(stride**2)]
    sums = [s or ctx.zeros_like(next(filter(None, sums))) for s in sums]
    whole = woven(ctx, sums, grid, stride)  # (N, C, *grid * stride): over the padded input
    return _cropped(ctx, whole, [g * stride for g in grid], sizes, pads[:2])


def _phases(ctx: BackwardContext, x: str, sizes, grid, stride: int, begins) -> str:
    """x padded with NaN (which equals nothing) by the pool's front pads and to `grid` times
    `stride` (cut where no window reaches), and split into its stride x stride phases:
    (N, stride**2 * C, *grid), phase (p, q) holding rows p, p + stride, ... and columns q,
    q + stride, ... (SpaceToDepth's DCR order)."""
    ends = [g * stride - size - begin for g, size, begin in zip(grid, sizes, begins, strict=True)]
    widths = ctx.ints([0, 0, *begins, 0, 0, *ends])  # negative ends cut
    padded = ctx.emit("Pad", [x, widths, ctx.const(np.nan)], mode="constant")
    return padded if stride == 1 else ctx.emit("SpaceToDepth", [padded], blocksize=stride)


def _phase_sum(ctx: BackwardContext, shares: list[Share], out, grid) -> str:
    """One phase's shares (N, C, *out), each shifted by its (row, column) offset on the phase
    grid, summed: (N, C, *grid)."""
    placed = []
    for row, column, share in shares:
        widths = [0, 0, row, column, 0, 0, grid[0] - out[0] - row, grid[1] - out[1] - column]
        placed.append(ctx.emit("Pad", [share, ctx.ints(widths)]) if any(widths) else share)
    return placed[0] if len(placed) == 1 else ctx.emit("Sum", placed)


def _cropped(ctx: BackwardContext, padded: str, padded_size, sizes, begins) -> str:
    """The gradient over the padded input (N, C, *padded_size) cropped to x (N, C, *sizes),
    with zeros for the rows and columns of x that no window reaches."""
    short = [max(0, b + s - p) for b, s, p in zip(begins, sizes, padded_size, strict=True)]
    if any(short):
        padded = ctx.emit("Pad", [padded, ctx.ints([0, 0, 0, 0, 0, 0, *short])])
    ends = [b + s for b, s in zip(begins, sizes, strict=True)]
    return ctx.emit("Slice", [padded, ctx.ints(begins), ctx.ints(ends), ctx.ints([2, 3])])
