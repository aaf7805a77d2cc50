"""Gather: each picked slice's gradient goes back to where it came from, summed where an
index repeats (a ViT's class token, a channel pick, the dynamo exporter's as_strided).

Constant indices: with M the one-hot (L, S) matrix of the L flattened indices into the S
positions of `axis`, the gradient reshaped to (..., L, rest) times M^T is (..., S, rest).
Indices computed at run time: ScatterND(reduction="add") into zeros, `axis` moved first.
"""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.context import BackwardContext, node_attr


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    x, indices = node.input
    dims = ctx.known_shape(x, node)
    axis = node_attr(node, "axis", 0) % len(dims)
    picked = ctx.value(indices)
    if picked is not None and isinstance(dims[axis], int):
        return [_one_hot(ctx, grads[0], x, picked, axis, dims[axis]), None]
    return [_scattered(ctx, node, grads[0], x, indices, axis, len(dims)), None]


def _one_hot(ctx: BackwardContext, grad: str, x: str, picked: np.ndarray, axis: int, size: int):
    flat = picked.reshape(-1) % size  # negative indices count from the end
    one_hot_t = np.zeros((size, len(flat)), dtype=np.float32)  # M^T: (S, L)
    one_hot_t[flat, np.arange(len(flat))] = 1.0
    rows = ctx.emit("Reshape", [grad, ctx.ints([0] * axis + [len(flat), -1])])  # (..., L, rest)
    spread = ctx.emit("MatMul", [ctx.const(one_hot_t), rows])  # (..., S, rest)
    return ctx.reshape_like(spread, x)


def _scattered(ctx, node, grad: str, x: str, indices: str, axis: int, rank: int) -> str:
    k = ctx.rank(indices, node)
    to_front = [axis, *range(axis), *range(axis + 1, rank)]  # x -> (S, pre, post)
    moved = ctx.emit("Transpose", [x], perm=to_front)
    picks_first = [*range(axis, axis + k), *range(axis), *range(axis + k, rank - 1 + k)]
    updates = ctx.emit("Transpose", [grad], perm=picks_first)  # (*indices, pre, post)
    size = ctx.emit("Shape", [x], start=axis, end=axis + 1)  # (1,)
    negative = ctx.emit("Less", [indices, ctx.const(0, np.int64)])
    wrapped = ctx.emit("Where", [negative, ctx.emit("Add", [indices, size]), indices])
    where = ctx.emit("Unsqueeze", [wrapped, ctx.ints([-1])])  # (*indices, 1)
    zeros = ctx.emit("ConstantOfShape", [ctx.emit("Shape", [moved])])
    summed = ctx.emit("ScatterND", [zeros, where, updates], reduction="add")
    return ctx.emit("Transpose", [summed], perm=np.argsort(to_front).tolist())
