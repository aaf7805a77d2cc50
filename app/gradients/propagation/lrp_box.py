"""LRP's z-box rule for the first convolution (Montavon et al. 2017, "Explaining nonlinear
classification decisions with deep Taylor decomposition"), on inputs bounded by l <= x <= h:

    R_x = x * W^T s - l * W+^T s - h * W-^T s,   s = R_z / (W x - W+ l - W- h)

(the denominator without the bias, as the paper's sum over inputs and Zennit's ZBox). Only
the x term has the form input * modified gradient, so the rule returns W^T s as the gradient
and adds the bound terms to `ctx.input_terms`. It applies to a Conv that reads the image
itself, whose bounds the caller gives (`lrp_low`, `lrp_high`: the model's preprocessing
applied to black and white).
"""

from __future__ import annotations

import onnx

from app.gradients.propagation import STABILIZER
from app.gradients.propagation.context import PropagationContext
from app.gradients.propagation.conv_weights import backward, conv_weights, forward, with_weights


def rule(ctx: PropagationContext, node: onnx.NodeProto, grads: list) -> list:
    weight, bias = conv_weights(ctx, node)
    positive = with_weights(ctx, node, "+")
    negative = with_weights(ctx, node, "-")
    z = node.output[0]
    bounded = ctx.emit("Add", [forward(ctx, positive, ctx.low), forward(ctx, negative, ctx.high)])
    shape = [1, -1] + [1] * (len(weight.shape) - 2)
    bounded = ctx.emit("Add", [bounded, ctx.const(bias.reshape(shape))])  # (W x + b) - b - ...
    stabilizer = ctx.cached("stabilizer", lambda: ctx.const(STABILIZER))
    s = ctx.ratio(grads[0], z, ctx.emit("Sub", [z, bounded]), stabilizer)
    low_term = ctx.emit("Mul", [ctx.low, backward(ctx, positive, s)])
    high_term = ctx.emit("Mul", [ctx.high, backward(ctx, negative, s)])
    ctx.input_terms.append(ctx.emit("Neg", [ctx.emit("Add", [low_term, high_term])]))
    return [backward(ctx, node, s)]
