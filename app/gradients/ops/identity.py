"""Identity (and inference-mode Dropout): the gradient passes unchanged."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    return [grads[0]]
