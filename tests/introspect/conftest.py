"""Models for the introspection tests, exported once per session."""

from __future__ import annotations

import onnx
import pytest
import torch

from app.export.architectures import mnist_cnn
from app.export.onnx_export import export_onnx
from tests.introspect.resnet_like import resnet_like


@pytest.fixture(scope="session")
def mnist_model() -> onnx.ModelProto:
    """The shipped mnist_cnn architecture, exported exactly as the store entry is."""
    torch.manual_seed(0)
    return onnx.load_from_string(export_onnx(mnist_cnn(), torch.zeros(1, 1, 28, 28)))


@pytest.fixture(scope="session")
def deep_model() -> onnx.ModelProto:
    """A ResNet-like graph of 66 nodes."""
    return resnet_like(blocks=8)
