"""The model-parameter randomisation test (Adebayo et al. 2018, "Sanity checks for saliency
maps", https://arxiv.org/abs/1810.03292), cascading from the top: copies of the ONNX graph
whose learnt layers are re-initialised one after another from the output down, each loaded
as a running model of its own; a map that explains what the model learnt must change.

A layer is a node with learnt weights given as an initializer: Conv, ConvTranspose, Gemm or
MatMul (BatchNormalization is folded into the convolutions of the shipped exports; one left
standing is kept as it is). Its weights and bias are redrawn as torch initialises them,
uniform in +-1/sqrt(fan_in), from a generator seeded by the job's seed and the layer's
place, so that each step of the cascade keeps the layers the one before re-drew. The
similarity of two maps is Spearman's rank correlation of their absolute values (Adebayo et
al.'s "absolute" variant, Quantus's default), 1 when the map ignores the weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from app.evaluate import seeds
from app.runtime.loader import LoadOptions, load_graph
from app.runtime.model import RunningModel

LEARNT = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})


@dataclass(frozen=True)
class Layer:
    """A node with learnt weights: its name (or output), and its weight and bias tensors."""

    name: str
    weight: str
    bias: str | None
    fan_in: int


def learnt_layers(graph: onnx.ModelProto) -> list[Layer]:
    """The layers with learnt weights, from the output down (reverse graph order)."""
    shapes = {init.name: tuple(init.dims) for init in graph.graph.initializer}
    found = []
    for node in graph.graph.node:
        if node.op_type not in LEARNT or len(node.input) < 2 or node.input[1] not in shapes:
            continue
        weight = shapes[node.input[1]]
        bias = node.input[2] if len(node.input) > 2 and node.input[2] in shapes else None
        found.append(Layer(node.name or node.output[0], node.input[1], bias, _fan_in(node, weight)))
    return found[::-1]


def cascade(layers: list[Layer], steps: int) -> list[list[Layer]]:
    """The layers re-drawn at each step: the top one first, then evenly more down to all."""
    counts = np.unique(np.round(np.linspace(1, len(layers), min(steps, len(layers)))))
    return [layers[: int(count)] for count in counts]


def randomised_graph(graph: onnx.ModelProto, layers: list[Layer], seed: int) -> onnx.ModelProto:
    """A copy of `graph` whose `layers` have freshly drawn weights and biases."""
    copy = onnx.ModelProto()
    copy.CopyFrom(graph)
    index = {init.name: init for init in copy.graph.initializer}
    for place, layer in enumerate(learnt_layers(graph)):
        if layer not in layers:
            continue
        rng = seeds.generator(seed, seeds.RANDOMISATION, place)
        bound = 1.0 / np.sqrt(layer.fan_in)
        for name in (layer.weight, layer.bias):
            if name is not None:
                shape = tuple(index[name].dims)
                drawn = rng.uniform(-bound, bound, shape).astype(np.float32)
                index[name].CopyFrom(numpy_helper.from_array(drawn, name))
    return copy


def randomised_model(model: RunningModel, layers: list[Layer], seed: int) -> RunningModel:
    """The model with `layers` re-drawn, loaded (gradient engine and all) like any other,
    its sessions made by the model's own session factory."""
    graph = randomised_graph(model.graph, layers, seed)
    return load_graph(graph, model.manifest, LoadOptions(sessions=model.engine.sessions))


def _fan_in(node: onnx.NodeProto, weight: tuple[int, ...]) -> int:
    """torch's fan-in: the weight's second axis times the kernel for (transposed)
    convolutions, the inner dimension for Gemm (transB aware) and MatMul."""
    if node.op_type in ("Conv", "ConvTranspose"):
        return int(np.prod(weight[1:]))
    if node.op_type == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return int(weight[1] if trans_b else weight[0])
    return int(weight[0])
