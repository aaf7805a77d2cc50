"""DeepLIFT's backward pass on the inputs' rows only.

A DeepLIFT batch holds the inputs, then their baselines, and a multiplier is the same on both
rows of a pair: the Rescale rule's (f(x) - f(x0)) / (x - x0) is symmetric in x and x0, a
linear op's is its weights, and MaxPool's split of y - y0 is too. The baselines' rows of a
backward pass over the whole batch would give the inputs' contributions negated. So the
backward pass runs on the inputs' rows: each batch tensor it reads is sliced to them, a
tensor's `partner` (context.py) to the baselines' rows, and the baselines' rows of a result
are the inputs' negated (their seeds are not read). That is half the backward pass.

Where the backward pass would read a tensor computed from the image that may not have the
batch first (an integer tensor, a shape that inference did not give), RowsUnknownError is raised
and the branch is built on the whole batch instead, `partner` swapping its halves.
"""

from __future__ import annotations

from collections.abc import Sequence

import onnx
from onnx import TensorProto, helper

from app.gradients.context import INT64_MAX
from app.gradients.propagation.context import PropagationContext


class RowsUnknownError(Exception):
    """A tensor the backward pass reads may not have the batch on its first axis."""


def on_input_rows(
    ctx: PropagationContext,
    nodes: Sequence[onnx.NodeProto],
    forward: onnx.GraphProto,
    seed: str,
) -> list[onnx.NodeProto]:
    """`nodes` (a backward pass, reading the forward graph's tensors by their names) reading
    the inputs' rows of each batch tensor, and the baselines' rows where a node is one of
    `ctx.baseline_rows`' markers."""
    batched, computed = _batch_tensors(ctx, forward, seed)
    markers = ctx.baseline_rows or set()
    first = len(ctx.nodes)
    half = ctx.emit("Div", [ctx.emit("Shape", [ctx.image], start=0, end=1), ctx.ints([2])])
    start, end, axis = ctx.ints([0]), ctx.ints([INT64_MAX]), ctx.ints([0])
    prologue = ctx.nodes[first:]
    del ctx.nodes[first:]
    inputs_rows: dict[str, str] = {}

    def rows_of(name: str) -> str:
        if name in batched:
            if name not in inputs_rows:
                inputs_rows[name] = ctx.fresh("input_rows")
                prologue.append(
                    helper.make_node("Slice", [name, start, half, axis], [inputs_rows[name]])
                )
            return inputs_rows[name]
        if name in computed:
            raise RowsUnknownError(name)
        return name

    found = []
    for node in nodes:
        if node.op_type == "Identity" and node.output[0] in markers:
            if node.input[0] not in batched:
                raise RowsUnknownError(node.input[0])
            found.append(helper.make_node("Slice", [node.input[0], half, end, axis], node.output))
            continue
        inputs = [rows_of(name) for name in node.input]
        del node.input[:]
        node.input.extend(inputs)
        found.append(node)
    return prologue + found


def both_rows(ctx: PropagationContext, contribution: str) -> str:
    """The inputs' contributions, then the baselines' (the same, negated): (2N, ...)."""
    return ctx.emit("Concat", [contribution, ctx.emit("Neg", [contribution])], axis=0)


def _batch_tensors(
    ctx: PropagationContext, forward: onnx.GraphProto, seed: str
) -> tuple[set[str], set[str]]:
    """(tensors with the batch first: the image, the seed, float tensors on the path whose
    first dim is the image's; every tensor computed from the image). Raises RowsUnknownError
    where the logits, so the seed, may not have the image's batch, or the batch is fixed and
    odd."""
    computed = {ctx.image}
    for node in forward.node:
        if any(name in computed for name in node.input):
            computed.update(node.output)
    image_shape = ctx.shape(ctx.image)
    batch = image_shape[0] if image_shape else None
    logits = ctx.shape(forward.output[0].name)
    if batch is None or not logits or logits[0] != batch:  # the seed's rows are the logits'
        raise RowsUnknownError(seed)
    if isinstance(batch, int) and batch % 2:  # halves of unequal sizes would not build
        raise RowsUnknownError(ctx.image)
    batched = {ctx.image, seed}
    for name in ctx.requires:
        shape = ctx.shape(name)
        floating = ctx.facts.elem_types.get(name) == TensorProto.FLOAT
        if floating and shape and shape[0] == batch:
            batched.add(name)
    return batched, computed
