"""Gemm: Y = alpha * A' @ B' + beta * C, with A' = A.T if transA, B' = B.T if transB."""

from __future__ import annotations

import onnx

from app.gradients.broadcast import unbroadcast
from app.gradients.context import BackwardContext, node_attr, node_input


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    a, b, c = node.input[0], node.input[1], node_input(node, 2)
    grad = grads[0]  # (M, N)
    alpha, beta = node_attr(node, "alpha", 1.0), node_attr(node, "beta", 1.0)
    trans_a, trans_b = node_attr(node, "transA", 0), node_attr(node, "transB", 0)
    result: list = [None, None, None]
    if ctx.needs(a):  # dA' = g @ B'.T ; dA = dA'.T = B' @ g.T
        if trans_a:
            result[0] = ctx.emit("Gemm", [b, grad], alpha=alpha, transA=trans_b, transB=1)
        else:
            result[0] = ctx.emit("Gemm", [grad, b], alpha=alpha, transB=1 - trans_b)
    if ctx.needs(b):  # dB' = A'.T @ g ; dB = dB'.T = g.T @ A'
        if trans_b:
            result[1] = ctx.emit("Gemm", [grad, a], alpha=alpha, transA=1, transB=trans_a)
        else:
            result[1] = ctx.emit("Gemm", [a, grad], alpha=alpha, transA=1 - trans_a)
    if c and ctx.needs(c):
        result[2] = unbroadcast(ctx, node, ctx.scale(grad, beta), c, node.output[0])
    return result
