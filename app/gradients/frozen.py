"""The forward graph with its piecewise ops frozen on the branch a base input takes.

For the self-check (self_check.py): central differences of a ReLU network are off by the
units whose input crosses 0 within the step, and deep ReLU networks have so many that the
error of a step small enough to avoid them drowns in float32 rounding (measured: 2e-2 to
1e-1 relative on ResNet-50, whatever the step). Freezing each Relu, Clip, LeakyRelu, PRelu,
HardSigmoid, HardSwish, MaxPool and GlobalMaxPool on the branch the base input takes makes
the network smooth (linear where only these ops bend it) around the base input, with the
same derivative there; every other op is the model's own.

The graph takes the model's input (where to evaluate, G * B rows) and `frozen_base:<input>`
(whose branches to keep, B rows: row r of the input keeps the branches of base row r % B).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import onnx
from onnx import TensorProto, helper

from app.gradients.analysis import image_input, prepare
from app.gradients.context import node_attr, node_input
from app.gradients.graph import upgraded_opsets

BASE_PREFIX = "frozen_base:"


@dataclass
class FrozenForward:
    """The frozen graph and the names of its inputs and output."""

    model: onnx.ModelProto
    input_name: str
    base_name: str
    logits_name: str


class _Emitter:
    """Appends the value path's nodes. The value batch is G groups of the base batch (row r
    is base sample r % B): `grouped` views a value tensor as (G, *base shape), so a
    condition on the base broadcasts over the groups."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self._counter = 0

    def base(self, name: str) -> str:
        return BASE_PREFIX + name

    def __call__(self, op_type: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        self._counter += 1
        output = output or f"frozen/{op_type.lower()}_{self._counter}"
        name = f"frozen/{self._counter}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name, **attrs))
        return output

    def const(self, value: float) -> str:
        tensor = helper.make_tensor("value", TensorProto.FLOAT, [], [value])
        return self("Constant", [], value=tensor)

    def ints(self, values: list[int]) -> str:
        return self("Constant", [], value_ints=values)

    def grouped(self, x: str) -> str:
        """x (G*B, ...) as (G, B, ...), B and the rest from the base tensor."""
        shape = self("Concat", [self.ints([-1]), self("Shape", [self.base(x)])], axis=0)
        return self("Reshape", [x, shape])

    def flat_groups(self, x: str) -> str:
        """x (G*B, ...) as (G, B * rest)."""
        size = self("Reshape", [self("Size", [self.base(x)]), self.ints([1])])
        return self("Reshape", [x, self("Concat", [self.ints([-1]), size], axis=0)])

    def ungrouped(self, value: str, node: onnx.NodeProto) -> None:
        """`value` (G, B, ...) back to (G*B, ...) as the node's output."""
        shape = self("Shape", [self.base(node.output[0])], start=1)
        self("Reshape", [value, self("Concat", [self.ints([-1]), shape], axis=0)], node.output[0])


def _where_positive(emit: _Emitter, node, slope_of: Callable[[str], str]) -> None:
    x = node.input[0]
    positive = emit("Greater", [emit.base(x), emit.const(0.0)])  # (B, ...)
    value = emit.grouped(x)  # (G, B, ...)
    emit.ungrouped(emit("Where", [positive, value, slope_of(value)]), node)


def _relu(emit, node):
    _where_positive(emit, node, lambda x: emit("Mul", [x, emit.const(0.0)]))


def _leaky_relu(emit, node):
    alpha = node_attr(node, "alpha", 0.01)
    _where_positive(emit, node, lambda x: emit("Mul", [x, emit.const(alpha)]))


def _p_relu(emit, node):
    _where_positive(emit, node, lambda x: emit("Mul", [x, node.input[1]]))


def _bound(emit, node, index: int, attribute: str) -> str:
    """A Clip bound: the optional input, else the attribute (opset < 11), else ''."""
    if node_input(node, index):
        return node.input[index]
    value = node_attr(node, attribute)
    return "" if value is None else emit.const(value)


def _clip(emit, node):
    x = node.input[0]
    value = emit.grouped(x)
    zero_like = emit("Mul", [value, emit.const(0.0)])
    low, high = _bound(emit, node, 1, "min"), _bound(emit, node, 2, "max")
    if high:  # at or above the top on the base: the constant top
        below_top = emit("Less", [emit.base(x), high])
        value = emit("Where", [below_top, value, emit("Add", [zero_like, high])])
    if low:
        above_bottom = emit("Greater", [emit.base(x), low])
        value = emit("Where", [above_bottom, value, emit("Add", [zero_like, low])])
    emit.ungrouped(value, node)


def _hard_sigmoid_of(emit, x: str, alpha: float, beta: float) -> str:
    """clip(alpha * x + beta, 0, 1) on the base's branch (G, B, ...), torch's inclusive
    middle piece."""

    def line(t):
        return emit("Add", [emit("Mul", [t, emit.const(alpha)]), emit.const(beta)])

    value = emit.grouped(x)
    base_line, zero_like = line(emit.base(x)), emit("Mul", [value, emit.const(0.0)])
    top = emit("Where", [emit("Greater", [base_line, emit.const(1.0)]),
                         emit("Add", [zero_like, emit.const(1.0)]), line(value)])  # fmt: skip
    return emit("Where", [emit("Less", [base_line, emit.const(0.0)]), zero_like, top])


def _hard_sigmoid(emit, node):
    alpha, beta = node_attr(node, "alpha", 0.2), node_attr(node, "beta", 0.5)
    emit.ungrouped(_hard_sigmoid_of(emit, node.input[0], alpha, beta), node)


def _hard_swish(emit, node):
    x = node.input[0]
    gate = _hard_sigmoid_of(emit, x, 1.0 / 6.0, 0.5)
    emit.ungrouped(emit("Mul", [emit.grouped(x), gate]), node)


def _max_pool(emit, node):
    """The base's Indices (flat over its B*C*H*W) pick from each group."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    attrs.pop("storage_order", None)
    x = node.input[0]
    indices = f"frozen/indices_of_{node.output[0]}"
    pooled = f"frozen/pooled_{node.output[0]}"
    emit.nodes.append(helper.make_node("MaxPool", [emit.base(x)], [pooled, indices], **attrs))
    emit.ungrouped(emit("Gather", [emit.flat_groups(x), indices], axis=1), node)


def _global_max_pool(emit, node):
    """The base's first maximum of each (sample, channel), as a flat index, picks."""
    x = node.input[0]
    rows = emit("Reshape", [emit.base(x), emit.ints([0, 0, -1])])  # (B, C, HW)
    first = emit("Reshape", [emit("ArgMax", [rows], axis=2, keepdims=0), emit.ints([-1])])
    plane = emit("Gather", [emit("Shape", [rows]), _scalar(emit, 2)])  # HW
    starts = emit("Range", [_scalar(emit, 0), emit("Size", [first]), _scalar(emit, 1)])
    flat = emit("Add", [first, emit("Mul", [starts, plane])])  # (B*C,) into B*C*HW
    emit.ungrouped(emit("Gather", [emit.flat_groups(x), flat], axis=1), node)


def _scalar(emit, value: int) -> str:
    return emit("Constant", [], value_int=value)


FREEZE_RULES: dict[str, Callable[[_Emitter, onnx.NodeProto], None]] = {
    "Clip": _clip,
    "GlobalMaxPool": _global_max_pool,
    "HardSigmoid": _hard_sigmoid,
    "HardSwish": _hard_swish,
    "LeakyRelu": _leaky_relu,
    "MaxPool": _max_pool,
    "PRelu": _p_relu,
    "Relu": _relu,
}


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    copy = onnx.NodeProto()
    copy.CopyFrom(node)
    return copy


def _base_copy(graph: onnx.GraphProto, keep: set[str]) -> list[onnx.NodeProto]:
    """The forward nodes on renamed tensors (all but `keep`), reading the base input."""

    def renamed(name: str) -> str:
        return name if not name or name in keep else BASE_PREFIX + name

    copies = []
    for index, node in enumerate(graph.node):
        copy = _copy(node)
        copy.name = f"{BASE_PREFIX}{index}:{node.name}"
        del copy.input[:], copy.output[:]
        copy.input.extend(renamed(name) for name in node.input)
        copy.output.extend(renamed(name) for name in node.output)
        copies.append(copy)
    return copies


def build_frozen_forward(model: onnx.ModelProto) -> FrozenForward:
    """The frozen forward of `model` (prepared as build_explain_graph prepares it)."""
    model = prepare(model)
    graph = model.graph
    source, logits = image_input(graph), graph.output[0].name
    base_nodes = _base_copy(graph, {init.name for init in graph.initializer})
    emit = _Emitter()
    for node in graph.node:
        rule = FREEZE_RULES.get(node.op_type)
        if rule is None:
            emit.nodes.append(_copy(node))
        else:
            rule(emit, node)
    base_input = onnx.ValueInfoProto()
    base_input.CopyFrom(source)
    base_input.name = BASE_PREFIX + source.name
    for dim in base_input.type.tensor_type.shape.dim:  # its batch is not the value batch
        if dim.HasField("dim_param"):
            dim.dim_param = BASE_PREFIX + dim.dim_param
    inputs = [*graph.input, base_input]
    frozen_graph = helper.make_graph(
        base_nodes + emit.nodes,
        f"{graph.name}_frozen",
        inputs,
        [graph.output[0]],
        list(graph.initializer),
    )
    opsets = upgraded_opsets(model)  # Shape(start) needs opset 15
    frozen = helper.make_model(frozen_graph, opset_imports=opsets)
    frozen.ir_version = max(model.ir_version, helper.find_min_ir_version_for(opsets))
    return FrozenForward(frozen, source.name, BASE_PREFIX + source.name, logits)
