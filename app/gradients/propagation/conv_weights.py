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


def with_weights(ctx: PropagationContext, node: onnx.NodeProto, key: str, weight, bias=None):
    """A copy of `node` reading `weight` (and `bias`, or none), shared by the branches. Its
    backward pass is a ConvTranspose on these weights (the engine does not learn them as
    constants, so no flipped copy of them is stored)."""
    name = ctx.shared_const((key, node.input[1]), lambda: weight)
    ctx.facts.shapes[name] = tuple(weight.shape)
    inputs = [node.input[0], name]
    if bias is not None:
        inputs.append(ctx.shared_const((key, node.input[1], "bias"), lambda: bias))
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return onnx.helper.make_node("Conv", inputs, list(node.output), node.name, **attrs)


def forward(ctx: PropagationContext, node: onnx.NodeProto, data: str) -> str:
    """`node` (a copy from with_weights) run on `data`."""
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return ctx.emit("Conv", [data, *node.input[1:]], **attrs)


def backward(ctx: PropagationContext, node: onnx.NodeProto, grad: str) -> str:
    """Conv's input gradient rule for `node` (a copy from with_weights)."""
    return conv.backward(ctx, node, [grad])[0]
