"""Expand: sum the gradient back over the axes the input was broadcast along."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    return [unbroadcast(ctx, node, grads[0], node.input[0], node.output[0]), None]
