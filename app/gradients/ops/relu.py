"""Relu: the only op whose rule follows the graph's `relu_rule` input.

0 plain gradient: pass where the forward input > 0 (torch: grad * (x > 0));
1 guided backprop: pass where the input > 0 and the incoming gradient > 0;
2 deconvnet: pass where the incoming gradient > 0, whatever the input.
This matches Captum's GuidedBackprop and Deconvolution, which override only nn.ReLU
(ReLU6/Clip, LeakyRelu and PRelu keep their plain gradient under every rule).
"""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def relu_flags(ctx: BackwardContext) -> tuple[str, str]:
    """(ignore the input mask, apply the gradient mask) as bool scalars, built once."""

    def build() -> tuple[str, str]:
        two, zero = ctx.const(2, "int64"), ctx.const(0, "int64")
        ignore_input = ctx.emit("Equal", [ctx.relu_rule, two])
        gate_gradient = ctx.emit("Greater", [ctx.relu_rule, zero])
        return ignore_input, gate_gradient

    return ctx.cached("relu_flags", build)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    grad, zero = grads[0], ctx.const(0.0)
    ignore_input, gate_gradient = relu_flags(ctx)
    input_open = ctx.emit("Or", [ctx.emit("Greater", [node.input[0], zero]), ignore_input])
    not_gated = ctx.emit("Not", [gate_gradient])
    gradient_open = ctx.emit("Or", [ctx.emit("Greater", [grad, zero]), not_gated])
    passes = ctx.emit("And", [input_open, gradient_open])
    return [ctx.emit("Where", [passes, grad, zero])]
