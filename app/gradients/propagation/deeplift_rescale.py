"""DeepLIFT's Rescale rule for elementwise activations (Shrikumar et al. 2017,
https://arxiv.org/abs/1704.02685): the multiplier is (f(x) - f(x0)) / (x - x0), and the
gradient where |x - x0| < DEEPLIFT_EPSILON (as Captum's DeepLift).

x0 is the tensor on the partner row (the batch holds the inputs, then their baselines), so
the multiplier is the same on both rows of a pair.
"""

from __future__ import annotations

from collections.abc import Callable

import onnx

from app.gradients.propagation import DEEPLIFT_EPSILON
from app.gradients.propagation.context import PropagationContext

Rule = Callable[..., list]


def rescale_rule(gradient_rule: Rule) -> Rule:
    """The Rescale rule of an activation whose gradient rule is `gradient_rule`."""

    def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
        delta_in, delta_out = ctx.delta(node.input[0]), ctx.delta(node.output[0])
        near = ctx.emit("Less", [ctx.emit("Abs", [delta_in]), ctx.const(DEEPLIFT_EPSILON)])
        safe = ctx.emit("Where", [near, ctx.const(1.0), delta_in])
        rescaled = ctx.emit("Div", [ctx.emit("Mul", [grads[0], delta_out]), safe])
        gradient = gradient_rule(ctx, node, grads)[0]
        return [ctx.emit("Where", [near, gradient, rescaled])]

    return rule
