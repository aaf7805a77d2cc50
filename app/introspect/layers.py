"""The layers of a graph with their static output shapes (onnx shape inference at batch 1)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import onnx

from app.explain.layers import ACTIVATIONS

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
MAX_CACHED_MODELS = 32

Shape = tuple[int, ...]


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


_cache: dict[int, tuple[onnx.ModelProto, dict[str, Shape]]] = {}
_cache_lock = threading.Lock()


def static_shapes(model: onnx.ModelProto) -> dict[str, Shape]:
    """tensor name -> full static shape (batch axis = 1) of every tensor inference could fix.
    Cached per model object."""
    with _cache_lock:
        hit = _cache.get(id(model))
        if hit is not None and hit[0] is model:
            return hit[1]
    shapes = _infer_at_batch_one(model)
    with _cache_lock:
        if len(_cache) >= MAX_CACHED_MODELS:
            _cache.pop(next(iter(_cache)))
        _cache[id(model)] = (model, shapes)
    return shapes


def _infer_at_batch_one(model: onnx.ModelProto) -> dict[str, Shape]:
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    initializers = {init.name for init in fixed.graph.initializer}
    for value in fixed.graph.input:
        dims = value.type.tensor_type.shape.dim
        if value.name not in initializers and dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    inferred = onnx.shape_inference.infer_shapes(fixed, strict_mode=False, data_prop=True)
    graph = inferred.graph
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if value.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = tuple(d.dim_value for d in dims)
    return shapes


def kind_of(op_type: str) -> str:
    return KINDS.get(op_type, "other")


def graph_layers(model: onnx.ModelProto, everything: bool = False) -> list[Layer]:
    """Conv, pool, activation and dense layers (every node when `everything`) whose output
    shape is static, in graph order."""
    shapes = static_shapes(model)
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


def find_layer(model: onnx.ModelProto, name: str) -> Layer | None:
    """The layer whose output tensor (or node) is called `name`, of any kind."""
    for layer in graph_layers(model, everything=True):
        if name in (layer.name, layer.node):
            return layer
    return None
