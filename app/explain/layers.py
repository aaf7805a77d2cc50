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
    """The manifest's CAM layer, else the last conv layer (after its activation); none for a
    token model (attention after the last conv: a ViT's patch embedding is no CAM layer)."""
    if manifest_layer:
        return manifest_layer
    layers = conv_layers(model)
    if not layers or attention_after(model, layers[-1]):
        return None
    return layers[-1]


def attention_after(model: onnx.ModelProto, layer: str) -> bool:
    """Whether a Softmax feeding a MatMul (softmax(QK^T) V) is downstream of `layer`."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    seen, frontier = {layer}, [layer]
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if node.op_type == "Softmax" and any(
                after.op_type == "MatMul" for out in node.output for after in consumers.get(out, [])
            ):
                return True
            fresh = [out for out in node.output if out not in seen]
            seen.update(fresh)
            frontier.extend(fresh)
    return False


def cam_refusal(model: onnx.ModelProto) -> str:
    """Why a model without a CAM layer has none."""
    layers = conv_layers(model)
    if layers and attention_after(model, layers[-1]):
        return (
            "This model's convolutions are followed by attention blocks (a token model such as "
            "a ViT): class activation maps need a spatial feature map near the output, and a "
            "token model has none. Use a gradient or perturbation method."
        )
    return "This model has no convolution layer for CAMs."
