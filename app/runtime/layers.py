"""What a model's graph offers the methods, worked out once when it loads: the layers a user
can pick for CAMs (conv outputs and the activation after each), the default CAM layer, and the
static shape of every tensor at batch 1."""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from app.errors import NoConvLayerError, UnknownLayerError

ACTIVATIONS = frozenset(
    {"Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid"}
)
Shape = tuple[int, ...]


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


def static_shapes(model: onnx.ModelProto) -> dict[str, Shape]:
    """tensor name -> full static shape (batch axis = 1) of every tensor inference could fix."""
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


@dataclass(frozen=True)
class LayerIndex:
    """A model's CAM layers, its default one (and why it has none), and its tensors' static
    shapes (batch 1)."""

    cam_layer: str | None
    conv_layers: tuple[str, ...]
    shapes: dict[str, Shape]
    no_cam_reason: str = "This model has no convolution layer for CAMs."

    @classmethod
    def of(cls, model: onnx.ModelProto, manifest_layer: str | None) -> LayerIndex:
        cam = default_cam_layer(model, manifest_layer)
        return cls(cam, tuple(conv_layers(model)), static_shapes(model), cam_refusal(model))

    def cam(self, requested: str | None) -> str:
        """The layer a CAM reads: `requested` (a conv layer), else the default."""
        layer = requested or self.cam_layer
        if layer is None:
            raise NoConvLayerError(self.no_cam_reason)
        if layer != self.cam_layer and layer not in self.conv_layers:
            raise UnknownLayerError(
                f"'{layer}' is not a conv layer; GET /models/{{name}} lists them."
            )
        return layer
