"""The backward pass itself: the gradient path walked in reverse, one rule per node, the
gradients of a tensor used more than once summed; and the shapes of those gradients, which
the explain graph declares (each has its forward tensor's shape)."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from app.gradients.context import BackwardContext
from app.gradients.errors import UnsupportedOpError
from app.gradients.ops import BACKWARD_RULES


def backpropagate(
    ctx: BackwardContext,
    path: list[onnx.NodeProto],
    requires: set[str],
    sink: str,
    seed: str,
    rules: dict = BACKWARD_RULES,
) -> dict[str, str]:
    """Walk `path` in reverse with `rules`; returns the total gradient of every tensor reached
    (a missing rule raises UnsupportedOpError)."""
    pending: dict[str, list[str]] = {sink: [seed]}
    totals: dict[str, str] = {}
    for node in reversed(path):
        grads_out = [_total(ctx, name, pending.pop(name, []), totals) for name in node.output]
        if all(grad is None for grad in grads_out):
            continue
        if node.op_type not in rules:
            raise UnsupportedOpError(node.op_type, node.name)
        grads_in = rules[node.op_type](ctx, node, grads_out)
        for index, name in enumerate(node.input):
            if name not in requires:
                continue
            grad = grads_in[index] if index < len(grads_in) else None
            if grad is None:
                detail = f"no gradient for input {index} ('{name}')"
                raise UnsupportedOpError(node.op_type, node.name, detail)
            pending.setdefault(name, []).append(grad)
            _shaped_like(ctx, grad, name)
    for name, grads in list(pending.items()):
        _total(ctx, name, grads, totals)
    return totals


def _total(ctx: BackwardContext, name: str, grads: list[str], totals: dict[str, str]):
    if not grads:
        return None
    totals[name] = grads[0] if len(grads) == 1 else ctx.emit("Sum", grads)
    _shaped_like(ctx, totals[name], name)
    return totals[name]


def _shaped_like(ctx: BackwardContext, grad: str, tensor: str) -> None:
    """Note that `grad` has `tensor`'s shape (a gradient always has its tensor's)."""
    shape = ctx.shape(tensor)
    if shape is not None and ctx.facts.elem_types.get(tensor) == TensorProto.FLOAT:
        ctx.gradient_shapes.setdefault(grad, shape)


def gradient_value_info(ctx: BackwardContext, outputs: set[str]) -> list[onnx.ValueInfoProto]:
    """The shapes of the outer graph's gradient tensors, with the forward tensors' symbols.
    onnxruntime's own inference gives some of them new symbols for the batch axis; its NCHWc
    layout then cannot tell a gradient and an activation apart in shape, and reorders both to
    NCHW to multiply them (EfficientNet-Lite0: 90 reorders, 17 with these shapes)."""
    made = {name for node in ctx.nodes for name in node.output}
    return [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
        for name, shape in ctx.gradient_shapes.items()
        if name in made and name not in outputs
    ]
