"""Split: concatenate the outputs' gradients (zeros for outputs without one)."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext, node_attr


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    pieces = [
        g if g is not None else ctx.zeros_like(y) for g, y in zip(grads, node.output, strict=True)
    ]
    return [ctx.emit("Concat", pieces, axis=node_attr(node, "axis", 0))]
