"""The propagation variants' rule tables: op type -> rule, as BACKWARD_RULES.

An op missing from a variant's table refuses that variant for the model (never a map that
silently treats it as something it is not). Ops that only move, copy or sum elements keep
their gradient rule under every variant: relevance moves with the elements.
"""

from __future__ import annotations

from collections.abc import Callable

import onnx

from app.gradients.errors import UnsupportedOpError
from app.gradients.ops import BACKWARD_RULES
from app.gradients.propagation import (
    Propagation,
    deeplift_max_pool,
    lrp_activation,
    lrp_box,
    lrp_gamma,
)
from app.gradients.propagation.context import PropagationContext
from app.gradients.propagation.deeplift_rescale import rescale_rule
from app.gradients.propagation.lrp_epsilon import epsilon_rule, norm_rule

Rule = Callable[..., list]
MOVING = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "Dropout",
          "Concat", "Split", "Slice", "Pad", "Cast", "Expand")  # fmt: skip
SUMS = ("Add", "Sub", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum")
SCALINGS = ("Mul", "Div", "BatchNormalization")  # by constants
DENSE = ("Gemm", "MatMul")
ACTIVATIONS = ("Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "Erf")
ONE_OPERAND = {"Mul": (0, 1), "MatMul": (0, 1), "Gemm": (0, 1), "Div": (1,)}


def linear(op_type: str) -> Rule:
    """The gradient rule of `op_type`, refused where it is not linear in its inputs on the path
    (a product of two such inputs, a division by one)."""
    gradient = BACKWARD_RULES[op_type]
    operands = ONE_OPERAND.get(op_type)

    def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
        if operands is not None:
            on_path = [i for i in operands if i < len(node.input) and ctx.needs(node.input[i])]
            if len(on_path) > (1 if len(operands) > 1 else 0):
                raise UnsupportedOpError(node.op_type, node.name, "not linear in its inputs")
        return gradient(ctx, node, grads)

    return rule


def first_layer_box(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    """The z-box rule on a Conv reading the image, the gamma rule on the others."""
    chosen = lrp_box.rule if node.input[0] == ctx.image else lrp_gamma.rule
    return chosen(ctx, node, grads)


def _moving() -> dict[str, Rule]:
    return {op: BACKWARD_RULES[op] for op in MOVING}


LRP_EPSILON: dict[str, Rule] = {
    **_moving(),
    **{op: epsilon_rule(linear(op)) for op in (*SUMS, *SCALINGS, *DENSE, "Conv", "MaxPool")},
    "Relu": lrp_activation.relu,
    "Clip": lrp_activation.clip,
}

LRP_COMPOSITE: dict[str, Rule] = {
    **_moving(),
    **{op: norm_rule(linear(op)) for op in SUMS},
    **{op: linear(op) for op in (*SCALINGS, "MaxPool")},
    **{op: epsilon_rule(linear(op)) for op in DENSE},
    "Conv": first_layer_box,
    "Relu": lrp_activation.relu,
    "Clip": lrp_activation.clip,
}

DEEPLIFT_RESCALE: dict[str, Rule] = {
    **_moving(),
    **{op: linear(op) for op in (*SUMS, *SCALINGS, *DENSE, "Conv")},
    **{op: rescale_rule(BACKWARD_RULES[op]) for op in ACTIVATIONS},
    "MaxPool": deeplift_max_pool.rule,
}

VARIANTS: dict[Propagation, dict[str, Rule]] = {
    Propagation.LRP_EPSILON: LRP_EPSILON,
    Propagation.LRP_COMPOSITE: LRP_COMPOSITE,
    Propagation.DEEPLIFT_RESCALE: DEEPLIFT_RESCALE,
}
