"""Transpose: transpose the gradient by the inverse permutation."""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.context import BackwardContext, node_attr


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    rank = ctx.rank(node.input[0], node)
    perm = node_attr(node, "perm", list(reversed(range(rank))))
    inverse = np.argsort(perm).tolist()
    return [ctx.emit("Transpose", [grads[0]], perm=inverse)]
