"""The backward rules, one module per op, in one explicit registry.

A rule is `backward(ctx, node, grads) -> list[str | None]`: given the gradient tensor
names of the node's outputs (None where an output gets no gradient), it emits ONNX nodes
through `ctx` and returns one gradient name per node input (None for inputs that need
none: weights, constants, shapes). Ops that only move elements share a rule:
Flatten, Squeeze and Unsqueeze use `reshape`.
"""

from __future__ import annotations

from collections.abc import Callable

from app.gradients.ops import (
    add,
    average_pool,
    batch_normalization,
    clip,
    concat,
    conv,
    div,
    dropout,
    gemm,
    global_average_pool,
    global_max_pool,
    hard_sigmoid,
    hard_swish,
    identity,
    leaky_relu,
    log_softmax,
    mat_mul,
    max_pool,
    mul,
    p_relu,
    pad,
    reduce_mean,
    reduce_sum,
    relu,
    reshape,
    sigmoid,
    slice,
    softmax,
    split,
    sub,
    tanh,
    transpose,
)

BackwardRule = Callable[..., list]

BACKWARD_RULES: dict[str, BackwardRule] = {
    "Add": add.backward,
    "AveragePool": average_pool.backward,
    "BatchNormalization": batch_normalization.backward,
    "Clip": clip.backward,
    "Concat": concat.backward,
    "Conv": conv.backward,
    "Div": div.backward,
    "Dropout": dropout.backward,
    "Flatten": reshape.backward,
    "Gemm": gemm.backward,
    "GlobalAveragePool": global_average_pool.backward,
    "GlobalMaxPool": global_max_pool.backward,
    "HardSigmoid": hard_sigmoid.backward,
    "HardSwish": hard_swish.backward,
    "Identity": identity.backward,
    "LeakyRelu": leaky_relu.backward,
    "LogSoftmax": log_softmax.backward,
    "MatMul": mat_mul.backward,
    "MaxPool": max_pool.backward,
    "Mul": mul.backward,
    "Pad": pad.backward,
    "PRelu": p_relu.backward,
    "ReduceMean": reduce_mean.backward,
    "ReduceSum": reduce_sum.backward,
    "Relu": relu.backward,
    "Reshape": reshape.backward,
    "Sigmoid": sigmoid.backward,
    "Slice": slice.backward,
    "Softmax": softmax.backward,
    "Split": split.backward,
    "Squeeze": reshape.backward,
    "Sub": sub.backward,
    "Tanh": tanh.backward,
    "Transpose": transpose.backward,
    "Unsqueeze": reshape.backward,
}
