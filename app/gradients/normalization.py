"""The input gradient of a normalisation over some axes, shared by LayerNormalization and
InstanceNormalization: with x_hat = (x - mean) / sqrt(var + eps) and gs = g * scale,
dX = (gs - mean(gs) - x_hat * mean(gs * x_hat)) / sqrt(var + eps), means over the axes."""

from __future__ import annotations

from app.gradients.context import BackwardContext


def normalized_gradient(
    ctx: BackwardContext, x: str, scaled_grad: str, axes: list[int], epsilon: float
) -> str:
    """dX of x_hat(x) given the gradient w.r.t. x_hat (`scaled_grad`, shaped like x)."""
    axes_input = ctx.ints(axes)

    def mean(tensor: str) -> str:  # ReduceMean takes its axes as an input from opset 18
        if ctx.facts.opset >= 18:
            return ctx.emit("ReduceMean", [tensor, axes_input], keepdims=1)
        return ctx.emit("ReduceMean", [tensor], axes=axes, keepdims=1)

    centred = ctx.emit("Sub", [x, mean(x)])
    variance = mean(ctx.emit("Mul", [centred, centred]))
    std = ctx.emit("Sqrt", [ctx.emit("Add", [variance, ctx.const(epsilon)])])
    inv_std = ctx.emit("Reciprocal", [std])
    x_hat = ctx.emit("Mul", [centred, inv_std])
    projection = ctx.emit("Mul", [x_hat, mean(ctx.emit("Mul", [scaled_grad, x_hat]))])
    residual = ctx.emit("Sub", [ctx.emit("Sub", [scaled_grad, mean(scaled_grad)]), projection])
    return ctx.emit("Mul", [residual, inv_std])
