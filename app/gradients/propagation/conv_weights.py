"""The gradient rule of a Conv run with other (constant) weights, as the gamma and box rules
need: Conv's backward on a copy of the node that reads the new weights."""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.errors import UnsupportedOpError
from app.gradients.ops import conv
from app.gradients.propagation.context import PropagationContext


def conv_weights(ctx: PropagationContext, node: onnx.NodeProto) -> tuple[np.ndarray, np.ndarray]:
    """(weights, bias) of a Conv with constant ones; refused otherwise."""
    weight = ctx.value(node.input[1])
    if weight is None:
        raise UnsupportedOpError(node.op_type, node.name, "LRP rules need constant weights")
    bias_name = node.input[2] if len(node.input) > 2 else ""
    bias = ctx.value(bias_name) if bias_name else np.zeros(weight.shape[0], np.float32)
    if bias is None:
        raise UnsupportedOpError(node.op_type, node.name, "LRP rules need a constant bias")
    return weight, bias


def with_weights(ctx: PropagationContext, node: onnx.NodeProto, part: str) -> onnx.NodeProto:
    """A copy of `node` reading its weights' positive (`part="+"`) or negative part, computed
    in the branch on each run (a millisecond's work) rather than stored: a stored copy, and
    onnxruntime's pre-packed copies of it, would cost memory on every model. The part is
    clipped at a zero computed from an input (`ctx.run_time_zero`): Relu(W) or Min(W, 0) on
    the constant W were folded by onnxruntime into stored copies, with NCHWc-reordered copies
    of those (51 MiB more on EfficientNet-Lite0). Its convolutions read non-constant weights,
    so its backward pass is a ConvTranspose."""
    weight = node.input[1]

    def build() -> str:
        clip = "Max" if part == "+" else "Min"
        return ctx.emit(clip, [weight, ctx.run_time_zero()])

    name = ctx.cached(("weights", part, weight), build)
    ctx.facts.shapes[name] = ctx.facts.shapes[weight]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return onnx.helper.make_node(
        "Conv", [node.input[0], name], list(node.output), node.name, **attrs
    )


def forward(ctx: PropagationContext, node: onnx.NodeProto, data: str) -> str:
    """`node` (a copy from with_weights) run on `data`."""
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return ctx.emit("Conv", [data, *node.input[1:]], **attrs)


def backward(ctx: PropagationContext, node: onnx.NodeProto, grad: str) -> str:
    """Conv's input gradient rule for `node` (a copy from with_weights)."""
    return conv.backward(ctx, node, [grad])[0]
