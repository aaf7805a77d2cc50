"""Reading the forward graph: static facts and the nodes on the gradient path."""

from __future__ import annotations

from collections.abc import Collection

import onnx
import onnx.inliner
import onnx.version_converter
from onnx import TensorProto, numpy_helper

from app.gradients.context import GraphFacts, Shape, node_attr
from app.gradients.folding import fold_static_parts

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}


CONVERT_BELOW, CONVERT_TO = 13, 17
MAX_FOLDING_ROUNDS = 32


def default_opset(model: onnx.ModelProto) -> int:
    """Version of the default ONNX domain the model imports."""
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def prepare(model: onnx.ModelProto) -> onnx.ModelProto:
    """Inline local functions, convert opsets < 13 to 17, run shape inference and fold what
    does not depend on the input's data into constants (folding.py).

    Works on a copy. Opsets 13..16 are kept: their ops read the same at opset 17.
    """
    model = onnx.inliner.inline_local_functions(model) if model.functions else model
    if default_opset(model) < CONVERT_BELOW:
        model = onnx.version_converter.convert_version(model, CONVERT_TO)
    model = _infer_shapes(model)
    for _ in range(MAX_FOLDING_ROUNDS):  # each round's constants let inference see further
        folded = fold_static_parts(model)
        if folded is model:
            break
        model = _infer_shapes(folded)
    return model


def _infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    return onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)


def image_input(graph: onnx.GraphProto) -> onnx.ValueInfoProto:
    """The graph input that is not an initializer (the image)."""
    initializers = {init.name for init in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise ValueError(f"expected one image input, found {[v.name for v in inputs]}")
    return inputs[0]


def _shape_of(value: onnx.ValueInfoProto) -> Shape | None:
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return tuple(_dim(d) for d in tensor_type.shape.dim)


def _dim(dim: onnx.TensorShapeProto.Dimension) -> int | str | None:
    if dim.HasField("dim_value"):
        return dim.dim_value
    return dim.dim_param if dim.HasField("dim_param") else None


def collect_facts(graph: onnx.GraphProto) -> tuple[GraphFacts, dict[str, int]]:
    """Static shapes, constant values, used names and element types of the graph."""
    facts = GraphFacts()
    elem_types: dict[str, int] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        elem_types[value.name] = value.type.tensor_type.elem_type
        shape = _shape_of(value)
        if shape is not None:
            facts.shapes[value.name] = shape
    for init in graph.initializer:
        facts.constants[init.name] = numpy_helper.to_array(init)
        facts.shapes[init.name] = tuple(init.dims)
        elem_types[init.name] = init.data_type
    for node in graph.node:
        facts.names.update(node.input)
        facts.names.update(node.output)
        if node.op_type == "Constant" and node_attr(node, "value") is not None:
            facts.constants[node.output[0]] = numpy_helper.to_array(node_attr(node, "value"))
        elif node.op_type == "Identity" and node.input[0] in facts.constants:
            facts.constants[node.output[0]] = facts.constants[node.input[0]]
    facts.names.update(elem_types)
    facts.elem_types = elem_types
    return facts, elem_types


def gradient_path(
    graph: onnx.GraphProto, sources: Collection[str], sink: str, elem_types: dict[str, int]
) -> tuple[list[onnx.NodeProto], set[str]]:
    """Nodes between `sources` and `sink` (in graph order) and the tensors needing a gradient.

    A tensor needs a gradient when it is a float tensor computed from a source (or is one)
    and `sink` depends on it; integer tensors (shapes, indices) stop the path.
    """
    differentiable = set(sources)
    for node in graph.node:
        if any(name in differentiable for name in node.input):
            differentiable.update(
                out for out in node.output if elem_types.get(out, TensorProto.FLOAT) in FLOAT_TYPES
            )
    ancestors = {sink}
    for node in reversed(graph.node):
        if any(out in ancestors for out in node.output):
            ancestors.update(name for name in node.input if name)
    requires = differentiable & ancestors
    path = [node for node in graph.node if any(out in requires for out in node.output)]
    return path, requires
