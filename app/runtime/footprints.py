"""Where each pixel of a local tensor looks in its input.

A tensor computed from the image by windowed ops (Conv, MaxPool, AveragePool) and pointwise
ops only is *local*: along each spatial axis, its pixel o reads the source's pixels
`o * stride + low` to `o * stride + high` (its footprint), so a change of the image moves it
only near the change. `local_node` says which nodes keep their output local; the op that
mixes positions otherwise (global pooling, flatten, resize, a ceil-mode or auto-padded window,
a constant that varies per pixel) ends the stem (app/runtime/stem.py)."""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from app.gradients.context import node_attr

Pair = tuple[int, int]

WINDOWED = frozenset({"Conv", "MaxPool", "AveragePool"})
POINTWISE = frozenset(
    {
        "Relu",
        "Clip",
        "LeakyRelu",
        "PRelu",
        "Sigmoid",
        "Tanh",
        "HardSwish",
        "HardSigmoid",
        "Elu",
        "Selu",
        "Softplus",
        "Erf",
        "Neg",
        "Abs",
        "Identity",
        "Dropout",
        "BatchNormalization",
    }
)
ELEMENTWISE = frozenset({"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum"})
PER_CHANNEL_PARAMETERS = frozenset({"BatchNormalization"})  # its inputs 1-4 are (C,) by spec


@dataclass(frozen=True)
class Footprint:
    """Pixel o of a tensor reads its source's pixels o * stride + low ... o * stride + high
    (inclusive), per spatial axis (height, width)."""

    stride: Pair
    low: Pair
    high: Pair

    @classmethod
    def identity(cls) -> Footprint:
        return cls((1, 1), (0, 0), (0, 0))

    def through(self, window: Window) -> Footprint:
        """The footprint of a window op's output whose input has this footprint."""
        axes = [
            (
                s * w,
                low - begin * s,
                high + (span - 1 - begin) * s,
            )
            for s, low, high, w, begin, span in zip(
                self.stride, self.low, self.high, window.strides, window.begins, window.spans,
                strict=True,
            )
        ]  # fmt: skip
        return Footprint(
            (axes[0][0], axes[1][0]), (axes[0][1], axes[1][1]), (axes[0][2], axes[1][2])
        )

    def then(self, step: Footprint) -> Footprint:
        """The footprint of a tensor whose footprint on this one's tensor is `step`."""
        return Footprint(
            (self.stride[0] * step.stride[0], self.stride[1] * step.stride[1]),
            (
                step.low[0] * self.stride[0] + self.low[0],
                step.low[1] * self.stride[1] + self.low[1],
            ),
            (
                step.high[0] * self.stride[0] + self.high[0],
                step.high[1] * self.stride[1] + self.high[1],
            ),
        )

    def union(self, other: Footprint) -> Footprint:
        """The footprint of an elementwise op on two tensors of the same stride."""
        low = (min(self.low[0], other.low[0]), min(self.low[1], other.low[1]))
        high = (max(self.high[0], other.high[0]), max(self.high[1], other.high[1]))
        return Footprint(self.stride, low, high)


@dataclass(frozen=True)
class Window:
    """A 2-D window op's geometry: spans (dilation * (kernel - 1) + 1), strides, pads."""

    spans: Pair
    strides: Pair
    begins: Pair
    ends: Pair

    def out_sizes(self, sizes: Pair) -> Pair:
        """The output's spatial sizes for an input of `sizes` (floor mode)."""
        out = [
            (size + begin + end - span) // stride + 1
            for size, begin, end, span, stride in zip(
                sizes, self.begins, self.ends, self.spans, self.strides, strict=True
            )
        ]
        return out[0], out[1]


@dataclass(frozen=True)
class LocalNode:
    """A node whose output is local: the local tensors it reads, its window (None for a
    pointwise or elementwise op) and its cost per output pixel (multiply-adds for a Conv,
    one per element otherwise)."""

    output: str
    reads: tuple[str, ...]
    window: Window | None
    per_pixel: float


def local_node(
    node: onnx.NodeProto, local: set[str], constants: set[str], shapes: dict
) -> LocalNode | None:
    """`node` as a LocalNode if its first output is local, else None."""
    reads = tuple(name for name in node.input if name in local)
    others = [name for name in node.input if name and name not in local]
    output = node.output[0]
    shape = shapes.get(output, ())
    if not reads or len(shape) != 4 or any(name not in constants for name in others):
        return None
    channels = shape[1]
    if node.op_type in WINDOWED:
        window = window_of(node, shapes)
        if window is None or len(reads) != 1 or node.input[0] != reads[0]:
            return None
        work = channels
        if node.op_type == "Conv":
            weight = shapes.get(node.input[1], ())
            work = channels * (weight[1] * weight[2] * weight[3] if len(weight) == 4 else 1)
        return LocalNode(output, reads, window, float(work))
    if node.op_type in POINTWISE or node.op_type in ELEMENTWISE:
        flat = node.op_type in PER_CHANNEL_PARAMETERS or all(
            spatially_flat(shapes.get(name)) for name in others
        )
        sizes = {shapes.get(name, ())[2:] for name in reads}
        if not flat or len(sizes) != 1 or (node.op_type in POINTWISE and reads[0] != node.input[0]):
            return None
        return LocalNode(output, reads, None, float(channels))
    return None


def spatially_flat(shape: tuple[int, ...] | None) -> bool:
    """Whether a constant of `shape` broadcasts the same value over every pixel of an NCHW
    tensor (its last two axes, where it has them, are 1)."""
    return shape is not None and len(shape) <= 4 and all(d == 1 for d in shape[-2:])


def window_of(node: onnx.NodeProto, shapes: dict) -> Window | None:
    """The 2-D window of a Conv or pool with explicit (or VALID) pads and floor mode."""
    if node.op_type == "Conv":
        weight = shapes.get(node.input[1], ())
        kernel = list(node_attr(node, "kernel_shape", weight[2:]))
    else:
        kernel = list(node_attr(node, "kernel_shape", []))
        if len(node.output) > 1 and node.output[1]:
            return None  # MaxPool's indices are positions in the whole map
    auto_pad = node_attr(node, "auto_pad", "NOTSET")
    if len(kernel) != 2 or auto_pad not in ("NOTSET", "VALID") or node_attr(node, "ceil_mode", 0):
        return None
    strides = list(node_attr(node, "strides", [1, 1]))
    dilations = list(node_attr(node, "dilations", [1, 1]))
    pads = [0] * 4 if auto_pad == "VALID" else list(node_attr(node, "pads", [0] * 4))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True)]
    return Window(
        (spans[0], spans[1]), (strides[0], strides[1]), (pads[0], pads[1]), (pads[2], pads[3])
    )
