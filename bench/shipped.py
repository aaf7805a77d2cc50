"""The shipped mnist_cnn for the benchmarks: its ONNX model, and the same weights loaded into
the torch architecture it was trained as."""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from app.config import PROJECT_ROOT
from app.export.architectures import mnist_cnn

STORE = PROJECT_ROOT / "model_store"


def shipped_mnist_cnn(store: Path = STORE) -> tuple[nn.Module, onnx.ModelProto]:
    """The store's mnist_cnn version 1 in ONNX and in torch (eval mode), same weights."""
    model = onnx.load(str(store / "mnist_cnn" / "1" / "model.onnx"))
    weights = {
        tensor.name: torch.from_numpy(numpy_helper.to_array(tensor).copy())
        for tensor in model.graph.initializer
    }
    net = mnist_cnn()
    net.load_state_dict({key: weights[key] for key in net.state_dict()})
    return net.eval(), model
