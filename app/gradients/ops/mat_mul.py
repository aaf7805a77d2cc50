"""MatMul (numpy semantics, both operands of rank >= 2): dA = g @ B^T, dB = A^T @ g."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext
from app.gradients.errors import UnsupportedOpError


def _swap_last(ctx: BackwardContext, tensor: str, rank: int) -> str:
    perm = [*range(rank - 2), rank - 1, rank - 2]
    return ctx.emit("Transpose", [tensor], perm=perm)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    a, b = node.input
    shape_a, shape_b = ctx.known_shape(a, node), ctx.known_shape(b, node)
    rank_a, rank_b = len(shape_a), len(shape_b)
    if min(rank_a, rank_b) < 2:
        raise UnsupportedOpError(node.op_type, node.name, "1-D operands")
    grad, out_shape = grads[0], ctx.known_shape(node.output[0], node)  # (..., M, N)
    result: list = [None, None]
    if ctx.needs(a):  # (..., M, K)
        product = ctx.emit("MatMul", [grad, _swap_last(ctx, b, rank_b)])
        result[0] = unbroadcast(ctx, node, product, a, (*out_shape[:-2], *shape_a[-2:]))
    if ctx.needs(b):  # (..., K, N)
        product = ctx.emit("MatMul", [_swap_last(ctx, a, rank_a), grad])
        result[1] = unbroadcast(ctx, node, product, b, (*out_shape[:-2], *shape_b[-2:]))
    return result
