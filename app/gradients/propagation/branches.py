"""The If nodes that choose, by the `propagation` input, which backward pass runs.

The gradient's backward pass stays in the outer graph, after the model's forward pass. In an
If branch it read every forward tensor, and onnxruntime keeps an If's inputs alive until the
If ends: they could no longer be freed as the backward pass goes, and a gradient run of
EfficientNet-Lite0 took 40% more memory than on a graph without variants. Each propagation
variant's backward pass is emitted into its own branch graph (one fork of the builder per
branch; weights and constants live once, in the outer graph) and recomputes the forward pass
it needs (`recomputed`), its logits and layer activations too.

The gradient's branch passes on the outer graph's outputs. Only the chosen branch runs: a
gradient run costs what it did before, and LRP or DeepLIFT cost a forward and their backward
pass on top of the outer graph's forward and gradient passes, which always run. (Running
those on an empty batch under a propagation rule, through a Slice of the image, saved that
time but changed onnxruntime's NCHWc fusions of the forward pass: the batch axis of the
sliced image is no longer the input's symbol, so residual Adds were not fused and the
logits moved by 4e-5, enough for the self-check to fail on mobilenetv2_050.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import onnx
from onnx import TensorProto, helper

from app.gradients.context import BackwardContext
from app.gradients.errors import UnsupportedOpError
from app.gradients.ops import BACKWARD_RULES
from app.gradients.propagation import PROPAGATION, Propagation
from app.gradients.propagation.context import PropagationContext
from app.gradients.propagation.input_rows import RowsUnknownError, both_rows, on_input_rows
from app.gradients.propagation.rules import VARIANTS

# (context, rule table) -> the gradients of the chosen tensors, emitted through the context
Backward = Callable[[BackwardContext, dict], list[str]]
Heads = Sequence[tuple[str, str]]  # (output name, tensor of the forward graph)


def emit_variants(
    ctx: BackwardContext,
    backward: Backward,
    forward: onnx.GraphProto,
    seed: str,
    shown: Heads,
    explained: Heads,
) -> dict[Propagation, str]:
    """Append to `ctx` the If nodes giving the outputs: of `shown` (logits, activations) the
    tensor's value, of `explained` (the image first) its gradient, or its relevance under a
    propagation rule. `forward` is the forward graph. Returns the variants refused for this
    graph, with the reason."""
    first = len(ctx.nodes)
    gradients = backward(ctx, BACKWARD_RULES)  # in the outer graph: see the module's text
    outer_nodes = ctx.nodes[first:]
    seen = [tensor for _, tensor in shown]
    tensors = [tensor for _, tensor in explained]
    producers = {out: node for node in forward.node for out in node.output}
    branches = {Propagation.GRADIENT: _branch(ctx.fork(), [*seen, *gradients])}
    refusals: dict[Propagation, str] = {}
    for kind, table in VARIANTS.items():
        variant, values = _variant(ctx, kind, (backward, table), forward, seed, tensors, refusals)
        values = [*(variant.emit("Identity", [tensor]) for tensor in seen), *values]
        variant.nodes = recomputed(variant, variant.nodes, producers)
        branches[kind] = _branch(variant, values)
    outputs = [output for output, _ in (*shown, *explained)]
    _free_names(ctx, outputs, [forward.node, outer_nodes, branches[Propagation.GRADIENT][0]])
    ctx.nodes.extend(_choose(ctx, list(branches.items()), outputs))
    return refusals


def _variant(
    ctx: BackwardContext,
    kind: Propagation,
    backward: tuple[Backward, dict],
    forward: onnx.GraphProto,
    seed: str,
    tensors: list[str],
    refusals: dict[Propagation, str],
) -> tuple[PropagationContext, list[str]]:
    """The backward pass of `kind` (`backward`: the pass and the rule table) and the
    relevances of `tensors`: DeepLIFT's on the inputs' rows where it can (input_rows.py);
    zeros, the reason in `refusals`, where an op has no rule."""
    image, (run_backward, table) = tensors[0], backward
    for input_rows in (True, False) if kind == Propagation.DEEPLIFT_RESCALE else (False,):
        variant = PropagationContext.branch_of(ctx, kind, image, input_rows)
        try:
            values = _relevances(variant, tensors, run_backward(variant, table))
        except UnsupportedOpError as error:
            refusals[kind] = str(error)
            variant = PropagationContext.branch_of(ctx, kind, image)
            return variant, [variant.zeros_like(tensor) for tensor in tensors]
        if not input_rows:
            return variant, values
        try:
            variant.nodes = on_input_rows(variant, variant.nodes, forward, seed)
        except RowsUnknownError:
            continue
        return variant, [both_rows(variant, value) for value in values]
    raise AssertionError("the whole batch is always possible")


def recomputed(
    ctx: BackwardContext, nodes: list[onnx.NodeProto], producers: dict
) -> list[onnx.NodeProto]:
    """`nodes`, reading their own copies of the forward tensors, recomputed in the branch from
    the graph's inputs: a branch runs the forward pass again. Forward tensors an If reads stay
    alive as long as the If may need them, which doubled the memory of a batched gradient run
    (onnxruntime could no longer free them as the backward pass goes, nor fuse a Conv with its
    activation); now a variant's branch reads only inputs and weights (the gradient's passes on
    the outer graph's outputs), and a gradient run is as before.
    A BatchNormalization copy reads its scale plus a zero computed at run time: onnxruntime
    would fuse it into the Conv before it, storing the fused weights (and NCHWc reorders of
    them) in the branch."""
    made = {out for node in nodes for out in node.output}
    renamed: dict[str, str] = {}
    again: list[onnx.NodeProto] = []
    zero: list[str] = []

    def resolve(name: str) -> str:
        if not name or name in made or name not in producers:
            return name
        if name not in renamed:
            node = producers[name]
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            copy.name = ctx.fresh("node_again")
            del copy.input[:]
            copy.input.extend(resolve(source) for source in node.input)
            if node.op_type == "BatchNormalization":
                copy.input[1] = _unfoldable(ctx, again, zero, copy.input[1])
            del copy.output[:]
            copy.output.extend(ctx.fresh("again") for _ in node.output)
            renamed.update(zip(node.output, copy.output, strict=True))
            again.append(copy)
        return renamed[name]

    for node in nodes:
        inputs = [resolve(name) for name in node.input]
        del node.input[:]
        node.input.extend(inputs)
    return again + nodes


def _unfoldable(ctx: BackwardContext, nodes: list, zero: list[str], tensor: str) -> str:
    """`tensor` + a float 0 that depends on the `propagation` input (as
    PropagationContext.run_time_zero), its nodes appended to `nodes`."""
    if not zero:
        never, zero_name = ctx.fresh("never"), ctx.fresh("run_time_zero")
        nodes.append(helper.make_node("Less", [PROPAGATION, PROPAGATION], [never]))
        nodes.append(helper.make_node("Cast", [never], [zero_name], to=TensorProto.FLOAT))
        zero.append(zero_name)
    added = ctx.fresh("unfoldable")
    nodes.append(helper.make_node("Add", [tensor, zero[0]], [added]))
    return added


def _free_names(ctx: BackwardContext, outputs: list[str], node_lists: list) -> None:
    """Rename the forward tensors named as an output (the model's `logits`) in the nodes of
    `node_lists`: the If gives that name now."""
    made = {out for node in node_lists[0] for out in node.output}
    renamed = {name: ctx.fresh("forward") for name in outputs if name in made}
    for nodes in node_lists:
        for node in nodes:
            for field in (node.input, node.output):
                names = [renamed.get(name, name) for name in field]
                del field[:]
                field.extend(names)


def _relevances(ctx: PropagationContext, tensors: Sequence[str], values: list[str]) -> list[str]:
    """Relevance t * g (LRP) or contribution (t - t0) * g (DeepLIFT) of each tensor t."""
    found = []
    for tensor, value in zip(tensors, values, strict=True):
        factor = ctx.delta(tensor) if ctx.kind == Propagation.DEEPLIFT_RESCALE else tensor
        found.append(ctx.emit("Mul", [factor, value]))
    if ctx.input_terms:
        found[0] = ctx.emit("Sum", [found[0], *ctx.input_terms])
    return found


def _branch(ctx: BackwardContext, values: list[str]) -> tuple[list[onnx.NodeProto], list[str]]:
    made = {out for node in ctx.nodes for out in node.output}
    for index, value in enumerate(values):
        if value not in made:  # a branch must compute its outputs itself
            values[index] = ctx.emit("Identity", [value])
    return ctx.nodes, values


def _choose(ctx: BackwardContext, branches: list, outputs: list[str]) -> list[onnx.NodeProto]:
    """Nested If nodes: the first branch when `propagation` is its kind, else the rest."""
    (kind, (nodes, values)), rest = branches[0], branches[1:]
    if not rest:
        return [
            *nodes,
            *[helper.make_node("Identity", [v], [o]) for v, o in zip(values, outputs, strict=True)],
        ]
    inner_outputs = [ctx.fresh("chosen") for _ in outputs]
    else_graph = _graph(ctx, _choose(ctx, rest, inner_outputs), inner_outputs)
    then_graph = _graph(ctx, nodes, values)
    condition = ctx.emit("Equal", [PROPAGATION, ctx.const(int(kind), "int64")])
    chooser = helper.make_node(
        "If",
        [condition],
        outputs,
        ctx.fresh("node_If"),
        then_branch=then_graph,
        else_branch=else_graph,
    )
    return [ctx.nodes.pop(), chooser]  # the Equal node was emitted into ctx.nodes: move it here


def _graph(
    ctx: BackwardContext, nodes: list[onnx.NodeProto], outputs: list[str]
) -> onnx.GraphProto:
    values = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs]
    return helper.make_graph(nodes, ctx.fresh("branch"), [], values)
