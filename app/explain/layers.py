"""The layers of a graph a user can pick for CAMs: conv outputs and the activation after each."""

from __future__ import annotations

import onnx

ACTIVATIONS = frozenset(
    {"Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid"}
)


def conv_layers(model: onnx.ModelProto) -> list[str]:
    """Tensor names of every Conv output, and of the activation that alone consumes it, in
    graph order."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    names = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        names.append(node.output[0])
        after = consumers.get(node.output[0], [])
        if len(after) == 1 and after[0].op_type in ACTIVATIONS:
            names.append(after[0].output[0])
    return names


def default_cam_layer(model: onnx.ModelProto, manifest_layer: str | None) -> str | None:
    """The manifest's CAM layer, else the last conv layer (after its activation)."""
    if manifest_layer:
        return manifest_layer
    layers = conv_layers(model)
    return layers[-1] if layers else None
