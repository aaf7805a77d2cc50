"""LRP's epsilon rule for any linear op (Bach et al. 2015): R_x = x * W^T (R_z / (z + eps)).

With relevance R_t = t * g_t (g: the modified gradient the backward pass carries), the rule
is the op's own gradient rule applied to g_z * z / (z + eps * sign(z)). `epsilon_rule(rule)`
uses the run-time `lrp_epsilon`; `norm_rule(rule)` only the fixed STABILIZER (Zennit's Norm,
for sums and average pools). For an Add of two branches it splits R_z in proportion to each
branch's contribution, which Captum's LRP does not (it hands R_z to both, Captum #546).
"""

from __future__ import annotations

from collections.abc import Callable

import onnx

from app.gradients.propagation import STABILIZER
from app.gradients.propagation.context import PropagationContext

Rule = Callable[..., list]


def epsilon_rule(gradient_rule: Rule) -> Rule:
    """The epsilon rule of an op whose gradient rule is `gradient_rule`."""

    def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
        scaled = ctx.ratio(grads[0], node.output[0], node.output[0], ctx.epsilon)
        return gradient_rule(ctx, node, [scaled, *grads[1:]])

    return rule


def norm_rule(gradient_rule: Rule) -> Rule:
    """The epsilon rule with epsilon = STABILIZER, whatever `lrp_epsilon` says."""

    def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
        stabilizer = ctx.cached("stabilizer", lambda: ctx.const(STABILIZER))
        scaled = ctx.ratio(grads[0], node.output[0], node.output[0], stabilizer)
        return gradient_rule(ctx, node, [scaled, *grads[1:]])

    return rule
