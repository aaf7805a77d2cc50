"""LRP's gamma rule for convolutions (Montavon et al. 2019, "Layer-Wise Relevance Propagation:
An Overview"), generalised to inputs of either sign (Andeol et al. 2021; Zennit's Gamma):

    outputs z > 0: weights W + gamma W+ on x+ (bias b + gamma b+), W + gamma W- on x-
    outputs z < 0: weights W + gamma W- on x+ (bias b + gamma b-), W + gamma W+ on x-

each output's relevance split in proportion to those contributions, whose sum (D+ or D-) has
the sign of z and is at least |z|, so the rule cannot blow up where the classic one (W + gamma
W+ on every input) can: on a conv fed signed values, as EfficientNet's projections feed the
next block. On non-negative inputs with a ReLU after, both are the classic rule. gamma is a
run-time input, so the weights are kept apart: with P = W+, N = W-, u = P x+ + N x-
and W x = z - b (so N x+ + P x- = z - b - u),

    D+ = z + gamma (u + b+),   D- = z + gamma (z - b - u + b-)
    g_x = W^T s + gamma ([x > 0] v + [x < 0] (W^T s - v)),   v = P^T s+ + N^T s-

with s+ = [z > 0] z g_z / D+, s- likewise and s = s+ + s- (relevance t * g at every tensor
t): two extra convolutions forwards and two backwards.
"""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.propagation import STABILIZER
from app.gradients.propagation.context import PropagationContext
from app.gradients.propagation.conv_weights import backward, conv_weights, forward, with_weights


def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    weight, bias = conv_weights(ctx, node)
    shape = [1, -1] + [1] * (len(weight.shape) - 2)
    positive = with_weights(ctx, node, "+")
    negative = with_weights(ctx, node, "-")
    x, z = node.input[0], node.output[0]
    zero, stabilizer = ctx.const(0.0), ctx.const(STABILIZER)
    up = ctx.emit("Add", [forward(ctx, positive, ctx.emit("Relu", [x])),
                          forward(ctx, negative, ctx.emit("Min", [x, zero]))])  # fmt: skip
    down = ctx.emit("Sub", [ctx.emit("Sub", [z, ctx.const(bias.reshape(shape))]), up])
    shares = []
    for part, sign, test in ((up, np.maximum, "Greater"), (down, np.minimum, "Less")):
        added = ctx.emit("Add", [part, ctx.const(sign(bias, 0).reshape(shape))])
        total = ctx.emit("Add", [z, ctx.emit("Mul", [ctx.gamma, added])])
        share = ctx.ratio(grads[0], z, total, stabilizer)
        shares.append(ctx.emit("Where", [ctx.emit(test, [z, zero]), share, zero]))
    s_up, s_down = shares
    plain = backward(ctx, node, ctx.emit("Add", [s_up, s_down]))
    v = ctx.emit("Add", [backward(ctx, positive, s_up), backward(ctx, negative, s_down)])
    on_down = ctx.emit("Sub", [plain, v])
    on_up_only = ctx.emit("Where", [ctx.emit("Greater", [x, zero]), v, zero])
    on_down_only = ctx.emit("Where", [ctx.emit("Less", [x, zero]), on_down, zero])
    boost = ctx.emit("Add", [on_up_only, on_down_only])
    return [ctx.emit("Add", [plain, ctx.emit("Mul", [ctx.gamma, boost])])]
