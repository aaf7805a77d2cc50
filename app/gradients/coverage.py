"""Which ops of a model the gradient engine has backward rules for, on its gradient path."""

from __future__ import annotations

from collections import Counter

import onnx

from app.gradients.analysis import collect_facts, gradient_path, image_input, prepare
from app.gradients.ops import BACKWARD_RULES


def supported_ops() -> frozenset[str]:
    """Op types that have a backward rule."""
    return frozenset(BACKWARD_RULES)


def unsupported_ops(model: onnx.ModelProto) -> list[tuple[str, str]]:
    """(op_type, node_name) of every node on the gradient path without a backward rule."""
    return [(n.op_type, n.name) for n in _input_path(model) if n.op_type not in BACKWARD_RULES]


def path_op_counts(model: onnx.ModelProto) -> dict[str, int]:
    """How many nodes of each op type lie on the gradient path (input to logits)."""
    return dict(Counter(node.op_type for node in _input_path(model)))


def _input_path(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    model = prepare(model)
    _, elem_types = collect_facts(model.graph)
    source = image_input(model.graph).name
    path, _ = gradient_path(model.graph, [source], model.graph.output[0].name, elem_types)
    return path
