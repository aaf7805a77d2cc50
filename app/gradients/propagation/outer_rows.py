"""The rows of the batch that the outer graph's forward and gradient passes run on: all of
them in a gradient run, none under a propagation rule, whose If branch computes the forward
pass it needs itself (branches.py). Without this a DeepLIFT run also paid for a forward and
a gradient pass whose results it threw away.

The model's nodes and the outer gradient pass read the image and the seed through a Slice of
their first rows. onnxruntime runs an empty batch through the ops of EMPTY_SAFE and their
gradient rules (tests/gradients/propagation/test_outer_rows.py); a model with another op, or
a Reshape to a shape that is not a constant (batch, fixed dims...) keeps one row under a
propagation rule: onnxruntime cannot infer a -1, nor copy a 0, from an empty tensor. A model
whose nodes hold subgraphs keeps every row (those would read the whole batch), as does one
whose input or output has no batch axis (a scalar, or a rank unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import onnx

from app.gradients.context import BackwardContext
from app.gradients.propagation import PROPAGATION

EMPTY_SAFE = frozenset({
    "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "Div",
    "Dropout", "Flatten", "Gemm", "GlobalAveragePool", "Identity", "MaxPool", "Mul",
    "ReduceMean", "Relu", "Reshape", "Sub",
})  # fmt: skip


def outer_rows(
    ctx: BackwardContext,
    forward: onnx.GraphProto,
    outer: Sequence[onnx.NodeProto],
    names: Sequence[str],
) -> None:
    """Make `forward`'s nodes and the `outer` nodes read `names` (the image, the seed) through
    their first rows: all under propagation 0, else none (or one, see the module's text)."""
    if any(a.type == onnx.AttributeProto.GRAPH for n in forward.node for a in n.attribute):
        return
    if not all(ctx.shape(tensor) for tensor in (names[0], forward.output[0].name)):
        return  # a scalar (or a tensor of unknown rank) has no rows to keep
    first = len(ctx.nodes)
    fewest = 0 if runs_empty(ctx, forward.node) else 1
    is_gradient = ctx.emit("Equal", [PROPAGATION, ctx.const(0, "int64")])
    start, axis, few = ctx.ints([0]), ctx.ints([0]), ctx.ints([fewest])
    kept = {}
    for name in names:  # each its own rows: a model's output may have more than its input
        every = ctx.emit("Shape", [name], start=0, end=1)
        rows = ctx.emit("Where", [is_gradient, every, few])
        kept[name] = ctx.emit("Slice", [name, start, rows, axis])
    prologue = ctx.nodes[first:]
    del ctx.nodes[first:]
    body = list(forward.node)
    for node in [*body, *outer]:
        inputs = [kept.get(name, name) for name in node.input]
        del node.input[:]
        node.input.extend(inputs)
    del forward.node[:]
    forward.node.extend([*prologue, *body])


def runs_empty(ctx: BackwardContext, nodes: Iterable[onnx.NodeProto]) -> bool:
    """Whether every node's op, forward and backward, runs on an empty batch."""
    for node in nodes:
        if node.op_type not in EMPTY_SAFE:
            return False
        if node.op_type == "Reshape" and not _fixed_target(ctx, node):
            return False
    return True


def _fixed_target(ctx: BackwardContext, node: onnx.NodeProto) -> bool:
    """A Reshape to a constant (0 or -1, then positive dims): the batch, then fixed dims."""
    shape = ctx.value(node.input[1])
    if shape is None or shape.ndim != 1 or len(shape) == 0:
        return False
    return int(shape[0]) in (0, -1) and all(int(d) > 0 for d in shape[1:])
