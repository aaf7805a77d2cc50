"""Clip (ReLU6 and friends): g where min < x < max, as torch's hardtanh_backward.

The bounds come from the optional inputs (opset 11+) or the min/max attributes.
At x exactly equal to a bound the gradient is 0 (torch.clamp would pass it).
The test reads the output y = clip(x): min < y < max exactly where min < x < max, and the
forward Conv and Clip can still be fused (a Conv output read twice is not).
"""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr, node_input


def _bound(ctx: BackwardContext, node: onnx.NodeProto, index: int, attr: str) -> str | None:
    if node_input(node, index):
        return node.input[index]
    value = node_attr(node, attr)
    return None if value is None else ctx.const(value)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    y, grad = node.output[0], grads[0]
    inside = None
    low, high = _bound(ctx, node, 1, "min"), _bound(ctx, node, 2, "max")
    for bound, compare in ((low, "Greater"), (high, "Less")):
        if bound is None:
            continue
        test = ctx.emit(compare, [y, bound])
        inside = test if inside is None else ctx.emit("And", [inside, test])
    if inside is None:
        return [grad]
    return [ctx.masked(grad, inside)]
