"""The layers of a graph with their static output shapes (from the model's layer index)."""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from app.runtime.layers import ACTIVATIONS, Shape

KINDS: dict[str, str] = {
    "Conv": "conv",
    "ConvTranspose": "conv",
    "MaxPool": "pool",
    "AveragePool": "pool",
    "GlobalAveragePool": "pool",
    "GlobalMaxPool": "pool",
    "LpPool": "pool",
    "Gemm": "dense",
    "MatMul": "dense",
    "Softmax": "activation",
    "LogSoftmax": "activation",
    "Elu": "activation",
    "Selu": "activation",
    "Gelu": "activation",
    **{op: "activation" for op in ACTIVATIONS},
}
LISTED_KINDS = frozenset({"conv", "pool", "activation", "dense"})


@dataclass(frozen=True)
class Layer:
    """One node's first output: tensor name, node name, op, kind and shape without the batch."""

    name: str
    node: str
    op: str
    kind: str
    shape: Shape

    def as_dict(self) -> dict:
        shape = list(self.shape)
        return {
            "name": self.name,
            "node": self.node,
            "op": self.op,
            "kind": self.kind,
            "shape": shape,
        }


def kind_of(op_type: str) -> str:
    return KINDS.get(op_type, "other")


def graph_layers(
    model: onnx.ModelProto, shapes: dict[str, Shape], everything: bool = False
) -> list[Layer]:
    """Conv, pool, activation and dense layers (every node when `everything`) whose output
    shape (in `shapes`, at batch 1) is static, in graph order."""
    layers = []
    for node in model.graph.node:
        kind = kind_of(node.op_type)
        shape = shapes.get(node.output[0]) if node.output else None
        if shape is None or not shape or (kind not in LISTED_KINDS and not everything):
            continue
        if node.op_type == "Constant":
            continue
        layers.append(Layer(node.output[0], node.name, node.op_type, kind, shape[1:]))
    return layers


def find_layer(model: onnx.ModelProto, shapes: dict[str, Shape], name: str) -> Layer | None:
    """The layer whose output tensor (or node) is called `name`, of any kind."""
    for layer in graph_layers(model, shapes, everything=True):
        if name in (layer.name, layer.node):
            return layer
    return None
