"""The If nodes that choose, by the `propagation` input, which backward pass runs.

The gradient's backward pass stays in the outer graph; under propagation 0 the If gives a
scalar 0 and a Where picks the gradient. In an If branch it read every forward tensor, and
onnxruntime keeps an If's inputs alive until the If ends: they could no longer be freed as the
backward pass goes, and a gradient run of EfficientNet-Lite0 took 40% more memory than on a
graph without variants. Each propagation variant's backward pass is emitted into its own
branch graph (one fork of the builder per branch; weights and constants live once, in the
outer graph) and recomputes the forward pass it needs (`recomputed`). Only the chosen branch
runs: the gradient costs what it did before, and LRP or DeepLIFT cost a forward and their
backward pass on top of the gradient's.
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
from app.gradients.propagation.rules import VARIANTS

# (context, rule table) -> the gradients of the chosen tensors, emitted through the context
Backward = Callable[[BackwardContext, dict], list[str]]


def emit_variants(
    ctx: BackwardContext,
    backward: Backward,
    forward: Sequence[onnx.NodeProto],
    tensors: Sequence[str],
    outputs: Sequence[str],
) -> dict[Propagation, str]:
    """Append to `ctx` the If nodes giving `outputs` (one per tensor of `tensors`, the image
    first): gradients, or relevances under a propagation rule. `forward` are the forward
    graph's nodes on the path. Returns the variants refused for this graph, with the reason."""
    gradients = backward(ctx, BACKWARD_RULES)  # in the outer graph: see the module's text
    producers = {out: node for node in forward for out in node.output}
    gradient_ctx = ctx.fork()
    nothing = [gradient_ctx.emit("Constant", [], value_float=0.0) for _ in tensors]
    branches = {Propagation.GRADIENT: _branch(gradient_ctx, nothing)}
    refusals: dict[Propagation, str] = {}
    for kind, table in VARIANTS.items():
        variant = PropagationContext.branch_of(ctx, kind, tensors[0])
        try:
            values = _relevances(variant, tensors, backward(variant, table))
        except UnsupportedOpError as error:
            refusals[kind] = str(error)
            variant = PropagationContext.branch_of(ctx, kind, tensors[0])
            values = [variant.zeros_like(tensor) for tensor in tensors]
        variant.nodes = recomputed(variant, variant.nodes, producers)
        branches[kind] = _branch(variant, values)
    chosen = [ctx.fresh("chosen") for _ in outputs]
    ctx.nodes[:0] = _choose(ctx, list(branches.items()), chosen)
    is_gradient = ctx.emit("Equal", [PROPAGATION, ctx.const(0, "int64")])
    for gradient, value, output in zip(gradients, chosen, outputs, strict=True):
        ctx.nodes.append(helper.make_node("Where", [is_gradient, gradient, value], [output]))
    return refusals


def recomputed(
    ctx: BackwardContext, nodes: list[onnx.NodeProto], producers: dict
) -> list[onnx.NodeProto]:
    """`nodes`, reading their own copies of the forward tensors, recomputed in the branch from
    the graph's inputs: a branch runs the forward pass again. Forward tensors an If reads stay
    alive as long as the If may need them, which doubled the memory of a batched gradient run
    (onnxruntime could no longer free them as the backward pass goes, nor fuse a Conv with its
    activation); now the If reads only inputs and weights, and a gradient run is as before."""
    made = {out for node in nodes for out in node.output}
    renamed: dict[str, str] = {}
    again: list[onnx.NodeProto] = []

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
