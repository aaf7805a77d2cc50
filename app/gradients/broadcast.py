"""Summing a gradient back over the axes an operand was broadcast along."""

from __future__ import annotations

import onnx

from app.gradients.context import BackwardContext
from app.gradients.errors import UnsupportedOpError


def broadcast_axes(operand_shape: tuple, output_shape: tuple) -> list[int]:
    """Axes of the output that the operand was broadcast along (numpy rules)."""
    lead = len(output_shape) - len(operand_shape)
    axes = list(range(lead))
    for index, dim in enumerate(operand_shape):
        if dim == 1 and output_shape[lead + index] != 1:
            axes.append(lead + index)
    return axes


def unbroadcast(
    ctx: BackwardContext, node: onnx.NodeProto, grad: str, operand: str, output: str | tuple
) -> str:
    """`grad` (shaped like `output`, a tensor name or a shape) summed to `operand`'s shape."""
    operand_shape = ctx.shape(operand)
    output_shape = ctx.shape(output) if isinstance(output, str) else output
    if operand_shape is None or output_shape is None:
        raise UnsupportedOpError(node.op_type, node.name, "broadcast with unknown ranks")
    axes = broadcast_axes(operand_shape, output_shape)
    if not axes:
        return grad
    summed = ctx.emit("ReduceSum", [grad, ctx.ints(axes)], keepdims=1)
    return ctx.reshape_like(summed, operand)
