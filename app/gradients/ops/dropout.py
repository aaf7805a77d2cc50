"""Dropout in inference mode: the gradient passes unchanged."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_input
from app.gradients.errors import UnsupportedOpError


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    training = node_input(node, 2)
    if training and (ctx.value(training) is None or bool(ctx.value(training))):
        raise UnsupportedOpError(node.op_type, node.name, "training mode")
    return [grads[0]]
