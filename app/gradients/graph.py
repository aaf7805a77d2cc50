"""build_explain_graph: the forward graph plus its backward pass, in standard ONNX ops."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import onnx
from onnx import TensorProto, helper

from app.gradients.analysis import (
    collect_facts,
    default_opset,
    gradient_path,
    image_input,
    prepare,
)
from app.gradients.backpropagation import backpropagate, gradient_value_info
from app.gradients.context import BackwardContext, GraphFacts
from app.gradients.errors import UnsupportedOpError
from app.gradients.ops import BACKWARD_RULES
from app.gradients.propagation import (
    EPSILON,
    GAMMA,
    HIGH,
    LOW,
    PROPAGATION,
    Propagation,
)
from app.gradients.propagation.branches import emit_variants
from app.gradients.top_class import TOP_SEED, class_count, with_top_class

MIN_OPSET = 17  # ScatterElements(reduction="add") needs 16; Shape(start, end) needs 15
SEED, RELU_RULE, LOGITS, INPUT_GRAD = "seed", "relu_rule", "logits", "input_grad"


class ReluRule(IntEnum):
    """Value of the `relu_rule` input: how Relu nodes pass the gradient back."""

    GRADIENT = 0  # where the forward input > 0
    GUIDED = 1  # where the forward input > 0 and the incoming gradient > 0
    DECONVNET = 2  # where the incoming gradient > 0


@dataclass(frozen=True)
class LayerOutputs:
    """Output names of one requested layer in the explain graph."""

    activation: str
    gradient: str


@dataclass
class ExplainGraph:
    """The explain graph and the names of its inputs and outputs."""

    model: onnx.ModelProto
    input_name: str
    layer_outputs: dict[str, LayerOutputs] = field(default_factory=dict)
    build_seconds: float = 0.0
    seed_name: str = SEED
    relu_rule_name: str | None = RELU_RULE  # None: a plain gradient graph (no ReLU rules)
    logits_name: str = LOGITS
    input_grad_name: str | None = INPUT_GRAD  # None: built with input_gradient=False
    top_seed_name: str | None = None  # the `top_seed` input, where the graph has one
    propagation_name: str | None = None  # the `propagation` input, where the graph has one
    refusals: dict[Propagation, str] = field(default_factory=dict)  # variants it cannot run


def gradient_nodes(graph: ExplainGraph) -> list[onnx.NodeProto]:
    """The nodes a gradient run (propagation 0) executes: the outer graph's, with the If that
    chooses the variant replaced by its gradient branch."""
    found = []
    for node in graph.model.graph.node:
        if node.op_type == "If" and graph.propagation_name is not None:
            branch = next(a.g for a in node.attribute if a.name == "then_branch")
            found.extend(branch.node)
        else:
            found.append(node)
    return found


def build_explain_graph(
    model: onnx.ModelProto,
    layers: Sequence[str] = (),
    objective: str | None = None,
    input_gradient: bool = True,
    rules: bool = False,
) -> ExplainGraph:
    """Derive the explain graph of an image classifier (one image input, logits output).

    With `objective` (a tensor of the model), the backward pass starts there instead of at the
    logits: `seed` is shaped like that tensor and the gradients are of sum(seed * objective).
    Otherwise the backward pass starts at the logits from `seed + top_seed * onehot(top class
    of the row)`, so one run can explain the class it finds on top (no forward run first).
    With `input_gradient=False` the backward pass stops at `layers` (what CAMs need): the
    graph has no `input_grad` output and no nodes below the layers' gradients, so it costs
    about one forward pass; ops below the layers need no rule.
    With `rules`, the graph also takes the `relu_rule` input (guided backprop, deconvnet) and,
    for the input gradient, the propagation inputs (LRP, DeepLIFT: propagation/branches.py).
    Without, it computes the plain gradient only: no rule to choose at run time, no If, and
    ReLU masks that keep onnxruntime's NCHWc layout (ops/relu.py), the leanest graph.
    Raises UnsupportedOpError naming the first op on the gradient path without a rule.
    """
    started = time.perf_counter()
    model = prepare(model)
    graph = model.graph
    source, logits = image_input(graph).name, graph.output[0].name
    sink = objective or logits
    facts, elem_types = collect_facts(graph)
    facts.opset = default_opset(model)
    _check_names(facts, logits, [*layers, *([objective] if objective else [])])
    sources = [source] if input_gradient else list(layers)
    path, requires = gradient_path(graph, sources, sink, elem_types)
    for op_type, node_name in [(n.op_type, n.name) for n in path]:
        if op_type not in BACKWARD_RULES:
            raise UnsupportedOpError(op_type, node_name)
    ctx = BackwardContext(facts, RELU_RULE if rules else None)
    ctx.requires = requires
    top_seeded = objective is None and class_count(ctx, logits) is not None
    seed = with_top_class(ctx, logits, SEED) if top_seeded else SEED
    graph.node.extend(ctx.nodes)  # the seed's nodes run with the forward pass (they read logits)
    del ctx.nodes[:]
    variants = rules and input_gradient and objective is None
    if variants:
        outputs, refusals = _emit_variants(ctx, graph, path, requires, source, logits, layers, seed)
    else:
        totals = backpropagate(ctx, path, requires, sink, seed)
        source_out = source if input_gradient else None
        outputs, refusals = _emit_outputs(ctx, source_out, logits, layers, totals), {}
    explain = _assemble(model, ctx, outputs, sink, variants, top_seeded, rules)
    onnx.checker.check_model(explain)
    layer_outputs = {name: LayerOutputs(f"act:{name}", f"grad:{name}") for name in layers}
    elapsed = time.perf_counter() - started
    return ExplainGraph(
        explain,
        source,
        layer_outputs,
        elapsed,
        relu_rule_name=RELU_RULE if rules else None,
        input_grad_name=INPUT_GRAD if input_gradient else None,
        top_seed_name=TOP_SEED if top_seeded else None,
        propagation_name=PROPAGATION if variants else None,
        refusals=refusals,
    )


def _check_names(facts: GraphFacts, sink: str, layers: Sequence[str]) -> None:
    for layer in layers:
        if layer not in facts.names:
            raise ValueError(f"layer '{layer}' is not a tensor of the model")
    taken = {SEED, TOP_SEED, RELU_RULE, INPUT_GRAD, PROPAGATION, EPSILON, GAMMA, LOW, HIGH}
    taken |= {LOGITS} - {sink}
    taken |= {f"{prefix}:{layer}" for layer in layers for prefix in ("act", "grad")}
    clashes = sorted(taken & facts.names)
    if clashes:
        raise ValueError(f"model tensors clash with explain graph names: {clashes}")


def _emit_variants(ctx, graph, path, requires, source, logits, layers, seed):
    """The If nodes giving the outputs under every propagation variant (propagation/
    branches.py); returns (output name, shape source) pairs and the refused variants. The
    gradient pass starts from `seed` (the top class added where asked: `with_top_class`),
    the propagation variants from the `seed` input as given."""

    def backward(branch: BackwardContext, rules: dict) -> list[str]:
        start = seed if branch is ctx else SEED
        totals = backpropagate(branch, path, requires, logits, start, rules)
        return [totals[t] if t in totals else branch.zeros_like(t) for t in (source, *layers)]

    shown = [(LOGITS, logits), *[(f"act:{layer}", layer) for layer in layers]]
    explained = [(INPUT_GRAD, source), *[(f"grad:{layer}", layer) for layer in layers]]
    refusals = emit_variants(ctx, backward, graph, SEED, shown, explained)
    pairs = [(LOGITS, logits), (INPUT_GRAD, source)]
    for layer in layers:
        pairs += [(f"act:{layer}", layer), (f"grad:{layer}", layer)]
    return pairs, refusals


def _emit_outputs(ctx, source, sink, layers, totals, gradients=True) -> list[tuple[str, str]]:
    """Identity nodes naming the outputs; returns (output name, shape source) pairs."""

    def named(tensor: str, output: str) -> None:
        if tensor != output:
            ctx.nodes.append(helper.make_node("Identity", [tensor], [output], ctx.fresh("out")))

    def grad_of(tensor: str) -> str:
        return totals[tensor] if tensor in totals else ctx.zeros_like(tensor)

    named(sink, LOGITS)
    pairs = [(LOGITS, sink)]
    if source is not None:
        named(grad_of(source), INPUT_GRAD)
        pairs.append((INPUT_GRAD, source))
    for layer in layers:
        named(layer, f"act:{layer}")
        pairs.append((f"act:{layer}", layer))
        if gradients:
            named(grad_of(layer), f"grad:{layer}")
            pairs.append((f"grad:{layer}", layer))
    return pairs


def _assemble(
    model: onnx.ModelProto,
    ctx: BackwardContext,
    outputs,
    sink: str,
    variants: bool,
    top_seeded: bool,
    rules: bool,
) -> onnx.ModelProto:
    graph = model.graph
    sink_shape = ctx.shape(sink)
    inputs = [*graph.input, helper.make_tensor_value_info(SEED, TensorProto.FLOAT, sink_shape)]
    if rules:
        inputs.append(helper.make_tensor_value_info(RELU_RULE, TensorProto.INT64, []))
    if top_seeded:
        rows = sink_shape[0] if sink_shape else None
        inputs.append(helper.make_tensor_value_info(TOP_SEED, TensorProto.FLOAT, [rows, 1]))
    if variants:
        inputs += _propagation_inputs(ctx.shape(image_input(graph).name))
    values = [helper.make_tensor_value_info(o, TensorProto.FLOAT, ctx.shape(s)) for o, s in outputs]
    new_graph = helper.make_graph(
        [*graph.node, *ctx.nodes],
        f"{graph.name}_explain",
        inputs,
        values,
        [*graph.initializer, *ctx.initializers],
        value_info=gradient_value_info(ctx, {v.name for v in values}),
    )
    opsets = upgraded_opsets(model)
    explain = helper.make_model(new_graph, opset_imports=opsets, producer_name="lantern")
    explain.ir_version = max(model.ir_version, helper.find_min_ir_version_for(opsets))
    return explain


def _propagation_inputs(image_shape) -> list[onnx.ValueInfoProto]:
    """The propagation inputs (propagation/__init__.py); the bounds are shaped like one image."""
    bounds = [1, *image_shape[1:]] if image_shape else None
    return [
        helper.make_tensor_value_info(PROPAGATION, TensorProto.INT64, []),
        helper.make_tensor_value_info(EPSILON, TensorProto.FLOAT, []),
        helper.make_tensor_value_info(GAMMA, TensorProto.FLOAT, []),
        helper.make_tensor_value_info(LOW, TensorProto.FLOAT, bounds),
        helper.make_tensor_value_info(HIGH, TensorProto.FLOAT, bounds),
    ]


def upgraded_opsets(model: onnx.ModelProto) -> list[onnx.OperatorSetIdProto]:
    """The model's opsets, the default domain raised to MIN_OPSET (what derived graphs need)."""
    return [
        helper.make_opsetid(o.domain, max(o.version, MIN_OPSET))
        if o.domain in ("", "ai.onnx")
        else o
        for o in model.opset_import
    ]
