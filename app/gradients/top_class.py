"""The top-class seed: an explain run that finds the class it explains.

An explain graph whose logits are (N, K) with K known takes `top_seed` (N, 1); its backward
pass starts from `seed + top_seed * onehot(argmax(logits))` per row, so one run explains the
class the image scores highest, with no forward run first to find it."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from app.gradients.context import BackwardContext

TOP_SEED = "top_seed"  # (N, 1): how much of each row's own top class to add to its seed


def class_count(ctx: BackwardContext, logits: str) -> int | None:
    """K of logits shaped (N, K) with K known; None for other shapes (no top-class seed)."""
    shape = ctx.shape(logits)
    if shape is None or len(shape) != 2 or not isinstance(shape[1], int):
        return None
    return shape[1]


def with_top_class(ctx: BackwardContext, logits: str, seed: str) -> str:
    """`seed + top_seed * onehot(argmax(logits))`, per row (ArgMax takes the first of tied
    maxima, as numpy's argmax does)."""
    classes = ctx.const(np.arange(class_count(ctx, logits) or 0)[None], np.int64)  # (1, K)
    top = ctx.emit("ArgMax", [logits], axis=1, keepdims=1)  # (N, 1)
    onehot = ctx.emit("Cast", [ctx.emit("Equal", [classes, top])], to=TensorProto.FLOAT)
    return ctx.emit("Add", [seed, ctx.emit("Mul", [TOP_SEED, onehot])])
