"""Deliberately broken backward rules, for the tests that prove the self-check catches them:
the kinds of error that made issue 11's maps wrong while they looked right."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx

from app.gradients.context import BackwardContext
from app.gradients.ops import BACKWARD_RULES

Rule = Callable[[BackwardContext, onnx.NodeProto, list], list]


def scaled(op_type: str, factor: float, only_call: int = 0) -> Rule:
    """The rule of `op_type`, its input gradients times `factor` at one node only (the
    `only_call`-th it meets, counting from the output): a small, local error."""
    rule, calls = BACKWARD_RULES[op_type], [0]

    def broken(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
        result = rule(ctx, node, grads)
        calls[0] += 1
        if calls[0] - 1 != only_call:
            return result
        return [ctx.scale(grad, factor) if grad else grad for grad in result]

    return broken


def first_sample_mask(op_type: str) -> Rule:
    """An activation rule whose mask comes from the batch's first sample for every sample:
    exact at batch 1, wrong for the second and later samples of a batch."""
    rule = BACKWARD_RULES[op_type]

    def broken(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
        first = onnx.NodeProto()
        first.CopyFrom(node)
        sliced = ctx.emit("Slice", [node.input[0], ctx.ints([0]), ctx.ints([1]), ctx.ints([0])])
        del first.input[:]
        first.input.extend([sliced, *node.input[1:]])
        if op_type in ("Relu", "Clip"):  # their rules read the output
            del first.output[:]
            first.output.append(ctx.emit(op_type, list(first.input)))
        return rule(ctx, first, grads)

    return broken


def shifted(op_type: str) -> Rule:
    """The rule of `op_type` with its input gradient moved one pixel to the right."""
    rule = BACKWARD_RULES[op_type]

    def broken(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
        result = rule(ctx, node, grads)
        grad = result[0]
        padded = ctx.emit("Pad", [grad, ctx.ints([0, 0, 0, 1, 0, 0, 0, 0])])
        ends = ctx.ints([np.iinfo(np.int64).max, -1])
        return [ctx.emit("Slice", [padded, ctx.ints([0, 0]), ends, ctx.ints([2, 3])]), *result[1:]]

    return broken
