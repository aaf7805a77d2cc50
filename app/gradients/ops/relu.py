"""Relu: the only op whose rule follows the graph's `relu_rule` input, where it has one.

0 plain gradient: pass where the forward input > 0 (torch: grad * (x > 0));
1 guided backprop: pass where the input > 0 and the incoming gradient > 0;
2 deconvnet: pass where the incoming gradient > 0, whatever the input.
This matches Captum's GuidedBackprop and Deconvolution, which override only nn.ReLU
(ReLU6/Clip, LeakyRelu and PRelu keep their plain gradient under every rule).

Per Relu: Max(g, t_grad) where y > t_in, else 0 (`BackwardContext.masked`), with the two
scalar thresholds chosen once from the rule (-inf lets everything through). The mask reads the
Relu output y (y > 0 exactly where x > 0), so the forward Conv and Relu can still be fused.
A graph without the input (the plain gradient) masks with HardSigmoids (steps.py), which keep
onnxruntime's NCHWc layout, and has no thresholds to choose.
"""

from __future__ import annotations

import onnx

from app.gradients import steps
from app.gradients.context import BackwardContext


def relu_thresholds(ctx: BackwardContext) -> tuple[str, str]:
    """(threshold on the output, floor of the gradient) as float scalars, built once."""
    rule = ctx.relu_rule
    assert rule is not None, "only a graph with the relu_rule input has thresholds"

    def build() -> tuple[str, str]:
        zero, minus_inf = ctx.const(0.0), ctx.const(float("-inf"))
        ignore_input = ctx.emit("Equal", [rule, ctx.const(2, "int64")])
        gate_gradient = ctx.emit("Greater", [rule, ctx.const(0, "int64")])
        output_threshold = ctx.emit("Where", [ignore_input, minus_inf, zero])
        gradient_floor = ctx.emit("Where", [gate_gradient, zero, minus_inf])
        return output_threshold, gradient_floor

    return ctx.cached("relu_thresholds", build)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if ctx.relu_rule is None:
        return [ctx.emit("Mul", [grads[0], steps.inside(ctx, node.output[0], 0.0, None)])]
    output_threshold, gradient_floor = relu_thresholds(ctx)
    passes = ctx.emit("Greater", [node.output[0], output_threshold])
    floored = ctx.emit("Max", [grads[0], gradient_floor])
    return [ctx.masked(floored, passes)]
