"""Folding what a graph computes from constants and static shapes into constants.

Exporters write some constants as computations: timm's `tf_` models work out their "same"
padding from the input's shape at run time, and weight-standardised convs (NF-ResNets)
normalise their weights on every run. Shape inference cannot see through those, so the
backward rules would miss static shapes, pads and weights. Every node whose inputs are
constants, or shapes whose only unknown dims are symbolic (the batch), is evaluated with
onnxruntime for two values of each symbol; what comes out the same for both is a constant.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from app.gradients.context import node_attr
from app.gradients.evaluate import evaluate

ALIASES = ("Constant", "Identity")  # analysis.collect_facts reads these without running them
SYMBOL_VALUES = (2, 3)  # two stand-ins for each symbolic dim; a value that differs depends on it
RANDOM_OPS = {
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "Multinomial",
}


def _dims(value: onnx.ValueInfoProto) -> list | None:
    """The dims of a tensor: ints, symbol names, or None when the rank or a dim is unknown."""
    if not value.type.tensor_type.HasField("shape"):
        return None
    dims = []
    for dim in value.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            return None
    return dims


def _static_nodes(graph: onnx.GraphProto, shapes: dict[str, list]) -> list[onnx.NodeProto]:
    """Nodes computed from constants and shapes only, in graph order."""
    known = {init.name for init in graph.initializer}
    static = []
    for node in graph.node:
        if node.op_type in RANDOM_OPS or node.domain not in ("", "ai.onnx"):
            continue
        if node.op_type in ("Shape", "Size"):
            ready = node.input[0] in known or shapes.get(node.input[0]) is not None
        else:
            ready = all(not name or name in known for name in node.input)
        if ready:
            static.append(node)
            known.update(node.output)
    return static


def _as_constant(node: onnx.NodeProto, dims: list, symbol: int) -> onnx.NodeProto:
    """Shape or Size of a tensor of `dims`, each symbol replaced by `symbol`, as a Constant."""
    sizes = [symbol if isinstance(d, str) else d for d in dims]
    if node.op_type == "Size":
        value = np.array(np.prod(sizes), dtype=np.int64)
    else:
        value = np.array(sizes, dtype=np.int64)[
            node_attr(node, "start", 0) : node_attr(node, "end")
        ]
    return helper.make_node("Constant", [], list(node.output), value=numpy_helper.from_array(value))


def _evaluate(model, static, shapes, wanted, types, symbol) -> list[np.ndarray]:
    """Run the static nodes `wanted` needs, every symbolic dim set to `symbol`."""
    needed, nodes = set(wanted), []
    for node in reversed(static):
        if any(name in needed for name in node.output):
            if node.op_type in ("Shape", "Size") and node.input[0] in shapes:
                node = _as_constant(node, shapes[node.input[0]], symbol)
            nodes.append(node)
            needed.update(node.input)
    graph = helper.make_graph(
        list(reversed(nodes)),
        "static_part",
        [],
        [helper.make_tensor_value_info(name, types[name], None) for name in wanted],
        [init for init in model.graph.initializer if init.name in needed],
    )
    folded = helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)
    return evaluate(folded, {}, wanted)


def fold_static_parts(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` (shape-inferred) with every value that does not depend on its
    input's data, nor on a symbolic dim, replaced by an initializer."""
    graph = model.graph
    values = [*graph.input, *graph.value_info, *graph.output]
    shapes = {v.name: d for v in values if (d := _dims(v)) is not None}
    types = {v.name: v.type.tensor_type.elem_type for v in values}
    types.update({init.name: init.data_type for init in graph.initializer})
    static = _static_nodes(graph, shapes)
    computed = {name for n in static if n.op_type not in ALIASES for name in n.output}
    static_ids = {id(n) for n in static}
    consumed = {name for n in graph.node if id(n) not in static_ids for name in n.input}
    consumed |= {o.name for o in graph.output}
    wanted = sorted(name for name in computed & consumed if types.get(name))
    if not wanted:
        return model
    try:
        runs = [_evaluate(model, static, shapes, wanted, types, s) for s in SYMBOL_VALUES]
    except Exception:  # noqa: BLE001 - a part onnxruntime cannot run alone stays as it is
        return model
    constant = {
        name: first
        for name, first, second in zip(wanted, runs[0], runs[1], strict=True)
        if first.shape == second.shape and np.array_equal(first, second)
    }
    return _replace(model, constant) if constant else model


def _replace(model: onnx.ModelProto, constant: dict[str, np.ndarray]) -> onnx.ModelProto:
    """`model` with `constant` as initializers and the nodes nothing needs any more removed."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    kept: list[onnx.NodeProto] = []
    for node in reversed(graph.node):
        outputs = [name for name in node.output if name]
        if any(name in needed and name not in constant for name in outputs):
            kept.append(node)
            needed.update(node.input)
    initializers = [i for i in graph.initializer if i.name in needed and i.name not in constant]
    initializers += [numpy_helper.from_array(v, n) for n, v in constant.items() if n in needed]
    new_graph = helper.make_graph(  # no value_info: inference redoes it, seeing the constants
        list(reversed(kept)), graph.name, list(graph.input), list(graph.output), initializers
    )
    folded = helper.make_model(new_graph, opset_imports=model.opset_import)
    folded.ir_version = model.ir_version
    return folded
