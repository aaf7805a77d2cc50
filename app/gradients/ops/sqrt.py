"""Sqrt: dX = g / (2 * y), from the forward output y (inf at 0, as torch)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    return [ctx.emit("Div", [grads[0], ctx.scale(node.output[0], 2.0)])]
