"""Cast between float types: the gradient is cast back to the input's type (a Cast to an
integer type ends the gradient path, so it never gets here)."""

from __future__ import annotations

import onnx
from onnx import TensorProto

from app.gradients.context import BackwardContext


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    source_type = ctx.facts.elem_types.get(node.input[0], TensorProto.FLOAT)
    return [ctx.emit("Cast", [grads[0]], to=source_type)]
