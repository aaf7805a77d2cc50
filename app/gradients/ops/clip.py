"""Clip (ReLU6 and friends): g where min < x < max, as torch's hardtanh_backward.

The bounds come from the optional inputs (opset 11+) or the min/max attributes.
At x exactly equal to a bound the gradient is 0 (torch.clamp would pass it).
The test reads the output y = clip(x): min < y < max exactly where min < x < max, and the
forward Conv and Clip can still be fused (a Conv output read twice is not). Constant bounds
(ReLU6's) make the mask from HardSigmoids (app/gradients/steps.py), which onnxruntime's
NCHWc layout carries; bounds computed at run time, from comparisons.
"""

from __future__ import annotations

import onnx

from app.gradients import steps
from app.gradients.context import BackwardContext, node_attr, node_input


def _bound(ctx: BackwardContext, node: onnx.NodeProto, index: int, attr: str):
    """The bound as a float where it is a constant, as a tensor name where it is computed,
    None where there is none."""
    if node_input(node, index):
        value = ctx.value(node.input[index])
        if value is None or value.size != 1:
            return node.input[index]
        return float(value.reshape(-1)[0])
    value = node_attr(node, attr)
    return None if value is None else float(value)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    y, grad = node.output[0], grads[0]
    low, high = _bound(ctx, node, 1, "min"), _bound(ctx, node, 2, "max")
    if low is None and high is None:
        return [grad]
    constant = not isinstance(low, str) and not isinstance(high, str)
    if constant and steps.usable(low, high):
        return [ctx.emit("Mul", [grad, steps.inside(ctx, y, low, high)])]
    tests = [
        ctx.emit(compare, [y, bound if isinstance(bound, str) else ctx.const(bound)])
        for bound, compare in ((low, "Greater"), (high, "Less"))
        if bound is not None
    ]
    inside = tests[0] if len(tests) == 1 else ctx.emit("And", tests)
    return [ctx.masked(grad, inside)]
