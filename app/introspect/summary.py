"""A Keras-style model summary from the ONNX graph: one row per layer with its type, output
shape, parameters and multiply-accumulates (MACs, at batch 1).

Conventions, chosen so that a model exported from Keras or its torch twin reads like Keras's
`model.summary()`:
- An activation that alone consumes a Conv or Dense output is folded into that row (Keras's
  `activation=` argument), and so is the bias Add after a MatMul. Other activations get rows.
- Dropout is removed when a model is exported in eval mode, so it has no row unless the graph
  still holds a Dropout node (the parameter totals are unchanged: Dropout has none).
- Shapes are the graph's (NCHW for image tensors), batch shown as None.
- BatchNormalization's running mean and variance are non-trainable, as in Keras; every other
  weight is trainable. A weight shared by several nodes is counted once, at first use.
- MACs: Conv = out_h*out_w*out_c*k_h*k_w*in_c/groups, Dense = in*out; other layers 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx

from app.runtime.layers import ACTIVATIONS, Shape

KERAS_TYPES: dict[str, str] = {  # other ops keep their ONNX name (Add, Flatten, ...)
    "Conv": "Conv2D",
    "ConvTranspose": "Conv2DTranspose",
    "Gemm": "Dense",
    "MatMul": "Dense",
    "MaxPool": "MaxPooling2D",
    "AveragePool": "AveragePooling2D",
    "GlobalAveragePool": "GlobalAveragePooling2D",
    "GlobalMaxPool": "GlobalMaxPooling2D",
    "Relu": "ReLU",
    "Mul": "Multiply",
    "Concat": "Concatenate",
    "Pad": "ZeroPadding2D",
}
FOLDS_ACTIVATION = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
HIDDEN = frozenset({"Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Cast"})
NON_TRAINABLE_INPUTS: dict[str, frozenset[int]] = {"BatchNormalization": frozenset({3, 4})}
FLOAT = onnx.TensorProto.FLOAT


@dataclass
class Row:
    """One Keras-style row; `nodes` are the graph nodes it stands for."""

    name: str
    type: str
    output_shape: list[int | None]
    parameters: int = 0
    trainable_parameters: int = 0
    macs: int = 0
    activation: str | None = None
    nodes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "output_shape": self.output_shape,
            "parameters": self.parameters,
            "macs": self.macs,
            "trainable": self.trainable_parameters > 0 or self.parameters == 0,
            "trainable_parameters": self.trainable_parameters,
            "activation": self.activation,
            "nodes": self.nodes,
        }


def summarise(model: onnx.ModelProto, shapes: dict[str, Shape]) -> dict:
    """The rows and totals of GET /models/{name}/summary (`shapes`: static, at batch 1)."""
    rows = summary_rows(model, shapes)
    total = sum(row.parameters for row in rows)
    trainable = sum(row.trainable_parameters for row in rows)
    return {
        "rows": [row.as_dict() for row in rows],
        "total_parameters": total,
        "trainable_parameters": trainable,
        "non_trainable_parameters": total - trainable,
        "total_macs": sum(row.macs for row in rows),
    }


def summary_rows(model: onnx.ModelProto, shapes: dict[str, Shape]) -> list[Row]:
    """One row per layer, in graph order, activations and bias adds folded."""
    weights = {init.name: init for init in model.graph.initializer if init.data_type == FLOAT}
    consumers = _consumers(model.graph)
    rows: list[Row] = []
    owner: dict[str, Row] = {}  # tensor -> the row whose output it is
    seen: set[str] = set()
    for node in model.graph.node:
        if node.op_type in HIDDEN:
            continue
        source = owner.get(node.input[0]) if node.input else None
        if source is not None and _folds_into(node, source, consumers, weights):
            _fold(source, node, shapes, weights, seen)
        else:
            source = _new_row(node, shapes, weights, seen)
            rows.append(source)
        for name in node.output:
            owner[name] = source
    return _unique(rows)


def _consumers(graph: onnx.GraphProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _folds_into(node, row: Row, consumers: dict[str, int], weights) -> bool:
    produced_by = row.nodes[-1]
    if consumers.get(node.input[0], 0) != 1 or row.activation is not None:
        return False
    if node.op_type in ACTIVATIONS or node.op_type == "Softmax":
        return row.type == "Dense" or row.type.startswith("Conv")
    is_bias = node.op_type == "Add" and any(name in weights for name in node.input[1:])
    return is_bias and produced_by.endswith("MatMul") and row.parameters > 0


def _fold(row: Row, node, shapes, weights, seen: set[str]) -> None:
    if node.op_type != "Add":
        row.activation = node.op_type.lower()
    _count_weights(row, node, weights, seen)
    row.output_shape = _batchless(shapes.get(node.output[0]))
    row.nodes.append(node.name or node.output[0])


def _new_row(node, shapes, weights, seen: set[str]) -> Row:
    row = Row(
        name=_display_name(node),
        type=_keras_type(node, shapes),
        output_shape=_batchless(shapes.get(node.output[0])),
        nodes=[node.name or node.output[0]],
    )
    if node.op_type in FOLDS_ACTIVATION or node.op_type in NON_TRAINABLE_INPUTS:
        _count_weights(row, node, weights, seen)
    row.macs = node_macs(node, shapes)
    return row


def _count_weights(row: Row, node, weights, seen: set[str]) -> None:
    frozen = NON_TRAINABLE_INPUTS.get(node.op_type, frozenset())
    for index, name in enumerate(node.input):
        if name in weights and name not in seen:
            seen.add(name)
            size = int(np.prod(weights[name].dims))
            row.parameters += size
            row.trainable_parameters += 0 if index in frozen else size


def node_macs(node: onnx.NodeProto, shapes: dict[str, Shape]) -> int:
    """Multiply-accumulates of one Conv, ConvTranspose, Gemm or MatMul at batch 1 (else 0)."""
    if node.op_type not in FOLDS_ACTIVATION or len(node.input) < 2:
        return 0
    data, weight, out = (
        shapes.get(name) for name in (node.input[0], node.input[1], node.output[0])
    )
    if data is None or weight is None or out is None:
        return 0
    if node.op_type == "Conv":  # weight (out_c, in_c / groups, k_h, k_w)
        return int(np.prod(out[1:])) * int(np.prod(weight[1:]))
    if node.op_type == "ConvTranspose":  # weight (in_c, out_c / groups, k_h, k_w)
        return int(np.prod(data[1:])) * int(np.prod(weight[1:]))
    trans_a = any(a.name == "transA" and a.i for a in node.attribute)
    features_in = data[-2] if trans_a else data[-1]
    return int(np.prod(out[1:])) * int(features_in)


def _keras_type(node: onnx.NodeProto, shapes: dict[str, Shape]) -> str:
    if node.op_type == "Conv":
        weight = shapes.get(node.input[1], ())
        groups = next((a.i for a in node.attribute if a.name == "group"), 1)
        spatial = max(1, len(weight) - 2)
        if groups > 1 and weight and weight[1] == 1:
            return f"DepthwiseConv{spatial}D"
        return f"Conv{spatial}D"
    if node.op_type in ACTIVATIONS and node.op_type != "Relu":
        return "Activation"
    return KERAS_TYPES.get(node.op_type, node.op_type)


def _display_name(node: onnx.NodeProto) -> str:
    """The torch module path of a node: '/features/features.0/Conv' -> 'features.0',
    '/layer1/conv1/Conv' -> 'layer1.conv1'; else the node (or output) name."""
    name = node.name or node.output[0]
    scopes = [part for part in name.strip("/").split("/") if part][:-1]
    parts: list[str] = []
    for index, scope in enumerate(scopes):
        parent = scopes[index - 1] + "." if index else ""
        parts.append(scope[len(parent) :] if parent and scope.startswith(parent) else scope)
    return ".".join(parts) or name.strip("/")


def _unique(rows: list[Row]) -> list[Row]:
    """Keras-style unique names: a repeated name gets `_1`, `_2`, ..."""
    counts: dict[str, int] = {}
    for row in rows:
        seen = counts.get(row.name, 0)
        counts[row.name] = seen + 1
        if seen:
            row.name = f"{row.name}_{seen}"
    return rows


def _batchless(shape: Shape | None) -> list[int | None]:
    return [None, *shape[1:]] if shape else []


def summary_text(model_name: str, summary: dict) -> str:
    """The summary as a Keras-like text table."""
    header = ("Layer (type)", "Output Shape", "Param #", "MACs")
    cells = [_text_cells(row) for row in summary["rows"]]
    widths = [max(len(line[i]) for line in [header, *cells]) + 3 for i in range(4)]
    rule = "_" * sum(widths)

    def line(values: tuple[str, ...]) -> str:
        return "".join(
            value.ljust(width) for value, width in zip(values, widths, strict=True)
        ).rstrip()

    body = [f'Model: "{model_name}"', rule, line(header), "=" * sum(widths)]
    body += [line(cell) for cell in cells]
    body += [
        "=" * sum(widths),
        f"Total params: {summary['total_parameters']:,}",
        f"Trainable params: {summary['trainable_parameters']:,}",
        f"Non-trainable params: {summary['non_trainable_parameters']:,}",
        f"Total MACs: {summary['total_macs']:,}",
        rule,
    ]
    return "\n".join(body) + "\n"


def _text_cells(row: dict) -> tuple[str, str, str, str]:
    activation = f", {row['activation']}" if row["activation"] else ""
    shape = ", ".join("None" if d is None else str(d) for d in row["output_shape"])
    return (
        f"{row['name']} ({row['type']}{activation})",
        f"({shape})",
        f"{row['parameters']:,}",
        f"{row['macs']:,}",
    )
