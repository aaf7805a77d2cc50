"""The network from a layer on: a graph cut out of the model that takes the layer's activation
and gives the logits, for methods that change a layer's activation and run the rest
(Ablation-CAM). One derived session per layer, kept in the model's session cache.

The cut keeps every node on a path from the layer to the logits, and the nodes that depend on
no input at all (constants). A tensor the kept nodes read that was computed before the layer
(a residual branch that skips over it) becomes an `upstream` input of the cut: the caller taps
it from the same forward run that gave the activation (batch 1) and the tail repeats it for
every row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from app.errors import UnknownLayerError
from app.runtime.cancellation import run_session
from app.runtime.derived import DerivedSessions
from app.runtime.sessions import SessionFactory
from app.runtime.stem import descendants


@dataclass(frozen=True)
class Tail:
    """The cut graph from `layer` on, and the tensors before the layer that it reads."""

    model: onnx.ModelProto
    layer: str
    upstream: tuple[str, ...]


def _kept_nodes(model: onnx.ModelProto, layer: str) -> list[onnx.NodeProto]:
    """The nodes the logits need from `layer` on: those computed from the layer, and
    constants; walking back from the logits stops at the layer and before it."""
    nodes = list(model.graph.node)
    initializers = {init.name for init in model.graph.initializer}
    inputs = {value.name for value in model.graph.input} - initializers
    after = descendants(nodes, {layer})
    from_inputs = descendants(nodes, inputs)
    needed, kept = {model.graph.output[0].name}, []
    for node in reversed(nodes):
        if not needed.intersection(node.output):
            continue
        outputs = set(node.output)
        if (outputs <= after and layer not in outputs) or not outputs & from_inputs:
            kept.append(node)
            needed.update(name for name in node.input if name != layer)
    return kept[::-1]


def _float_value(name: str, types: dict[str, onnx.TypeProto]) -> onnx.ValueInfoProto:
    """A float tensor input with a dynamic batch axis, its other axes as inferred."""
    known = types.get(name)
    if known is not None and known.tensor_type.elem_type != TensorProto.FLOAT:
        raise UnknownLayerError(
            f"The network cannot be run from this layer on: it reads '{name}', a tensor of "
            "another type than float computed before the layer."
        )
    dims: list[int | str | None] = [None]
    if known is not None and known.tensor_type.HasField("shape"):
        dims = [
            d.dim_value if d.HasField("dim_value") else None for d in known.tensor_type.shape.dim
        ]
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *dims[1:]])


def cut_at(model: onnx.ModelProto, layer: str) -> Tail:
    """The graph from `layer` to the model's first output (UnknownLayerError if the output
    does not depend on the layer)."""
    produced = {name for node in model.graph.node for name in node.output}
    if layer not in produced:
        raise UnknownLayerError(f"No layer named '{layer}' in this model.")
    kept = _kept_nodes(model, layer)
    inside = {name for node in kept for name in node.output}
    output = model.graph.output[0].name
    if layer not in {name for node in kept for name in node.input} or output not in inside:
        raise UnknownLayerError(f"The output does not depend on layer '{layer}'.")
    initializers = [init for init in model.graph.initializer]
    constant = {init.name for init in initializers}
    read = [name for node in kept for name in node.input]
    upstream = tuple(
        dict.fromkeys(n for n in read if n and n != layer and n not in inside | constant)
    )
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    values = [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
    types = {value.name: value.type for value in values}
    used = set(read)
    graph = helper.make_graph(
        kept,
        f"{model.graph.name}_from_{layer}",
        [_float_value(name, types) for name in (layer, *upstream)],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        [init for init in initializers if init.name in used],
    )
    cut = helper.make_model(graph, opset_imports=model.opset_import)
    cut.ir_version = model.ir_version
    return Tail(cut, layer, upstream)


class LayerTails:
    """Runs a model from a layer on: activations (N, ...) of the layer in, logits (N, K) out."""

    def __init__(
        self, graph: onnx.ModelProto, sessions: SessionFactory, cache: DerivedSessions
    ) -> None:
        self.graph = graph
        self.sessions = sessions
        self.cache = cache

    def upstream(self, layer: str) -> tuple[str, ...]:
        """The tensors before `layer` that the rest of the network reads (tap them too)."""
        return self._built(layer)[0].upstream

    def run(
        self, layer: str, activations: np.ndarray, upstream: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Logits (N, K) of the network run from `layer` on `activations` (N, ...), with the
        `upstream` tensors of one image (batch 1) repeated for every row."""
        tail, session = self._built(layer)
        rows = len(activations)
        feeds = {layer: np.ascontiguousarray(activations, dtype=np.float32)}
        for name in tail.upstream:
            feeds[name] = np.repeat(np.asarray(upstream[name], dtype=np.float32), rows, axis=0)
        (logits,) = run_session(session, [tail.model.graph.output[0].name], feeds)
        return np.asarray(logits, dtype=np.float32).reshape(rows, -1)

    def _built(self, layer: str) -> tuple[Tail, ort.InferenceSession]:
        def build() -> tuple[Tail, ort.InferenceSession]:
            tail = cut_at(self.graph, layer)
            return tail, self.sessions.create(tail.model)

        return self.cache.get(("tail", layer), build)
