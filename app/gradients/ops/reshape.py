"""Reshape (and Flatten, Squeeze, Unsqueeze): reshape the gradient back to the input's shape."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    return [ctx.reshape_like(grads[0], node.input[0])]
