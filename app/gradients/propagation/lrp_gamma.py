"""LRP's gamma rule for convolutions (Montavon et al. 2019, "Layer-Wise Relevance Propagation:
An Overview"): R_x = x * W_g^T (R_z / z_g), W_g = W + gamma W+, b_g = b + gamma b+ (the bias
too, as the paper's sum over j = 0..n and Zennit's Gamma; Captum's GammaRule leaves it).

gamma is a run-time input, so with z+ = Conv(x, W+, b+): z_g = z + gamma z+, and
W_g^T s = W^T s + gamma W+^T s. Zennit's generalised Gamma differs only at outputs z < 0,
whose relevance is 0 wherever a ReLU follows.
"""

from __future__ import annotations

import numpy as np
import onnx

from app.gradients.propagation import STABILIZER
from app.gradients.propagation.context import PropagationContext
from app.gradients.propagation.conv_weights import backward, conv_weights, forward, with_weights


def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    weight, bias = conv_weights(ctx, node)
    positive = with_weights(ctx, node, "w+", np.maximum(weight, 0), np.maximum(bias, 0))
    z = node.output[0]
    z_gamma = ctx.emit(
        "Add", [z, ctx.emit("Mul", [ctx.gamma, forward(ctx, positive, node.input[0])])]
    )
    stabilizer = ctx.cached("stabilizer", lambda: ctx.const(STABILIZER))
    s = ctx.ratio(grads[0], z, z_gamma, stabilizer)
    plain = backward(ctx, node, s)
    boosted = ctx.emit("Mul", [ctx.gamma, backward(ctx, positive, s)])
    return [ctx.emit("Add", [plain, boosted])]
