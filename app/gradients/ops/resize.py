"""Resize (nearest, linear, cubic; any coordinate mode but tf_crop_and_resize): a linear map
along each spatial axis, so the gradient goes back through the transposed matrices.

The matrix of each resized axis is read off onnxruntime itself, by resizing unit vectors
with the node's own attributes and scale (or size), so the backward pass is the exact
transpose of the forward the model runs. Batch and channel axes must keep their size, and
scales or sizes must be constants.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from app.gradients.context import BackwardContext, node_attr, node_input
from app.gradients.errors import UnsupportedOpError
from app.gradients.evaluate import evaluate


def _factors(ctx: BackwardContext, node: onnx.NodeProto, rank: int) -> tuple[str, list]:
    """('scales' or 'sizes', one value per axis)."""
    axes = node_attr(node, "axes")
    for kind, index in (("scales", 2), ("sizes", 3)):
        value = ctx.value(node_input(node, index))
        if value is None or not value.size:
            continue
        if axes is None:
            return kind, value.tolist()
        x_dims = ctx.known_shape(node.input[0], node)
        full: list = [1.0] * rank if kind == "scales" else list(x_dims)
        for axis, item in zip(axes, value.tolist(), strict=True):  # opset 18: listed axes only
            full[axis % rank] = item
        return kind, full
    raise UnsupportedOpError(node.op_type, node.name, "scales or sizes computed at run time")


def interpolation_matrix(node: onnx.NodeProto, kind: str, factor, size: int, opset: int):
    """(out, in) matrix that resizes one axis of length `size` by `factor` (scale or size)."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute if a.name != "axes"}
    factors = [1.0, 1.0, 1.0, factor] if kind == "scales" else [size, 1, 1, factor]
    inputs = ["x", "", "f"] if kind == "scales" else ["x", "", "", "f"]
    data_type = TensorProto.FLOAT if kind == "scales" else TensorProto.INT64
    graph = helper.make_graph(
        [helper.make_node("Resize", inputs, ["y"], **attrs)],
        "resize_one_axis",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [size, 1, 1, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("f", data_type, [4], factors)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", max(opset, 13))])
    units = np.eye(size, dtype=np.float32).reshape(size, 1, 1, size)
    (resized,) = evaluate(model, {"x": units})  # row i: unit vector i, resized
    return resized.reshape(size, -1).T  # (out, in)


def backward(ctx: BackwardContext, node: onnx.NodeProto, grads: list) -> list:
    if node_attr(node, "coordinate_transformation_mode", "") == "tf_crop_and_resize":
        raise UnsupportedOpError(node.op_type, node.name, "tf_crop_and_resize")
    if node_attr(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        raise UnsupportedOpError(node.op_type, node.name, "keep_aspect_ratio_policy")
    x, grad = node.input[0], grads[0]
    dims = ctx.static_dims(x, node)  # (N, C, *sizes)
    rank = len(dims)
    kind, factors = _factors(ctx, node, rank)
    kept = [1.0 if kind == "scales" else dims[axis] for axis in range(rank)]
    if factors[1] != kept[1] or (kind == "scales" and factors[0] != 1.0):
        raise UnsupportedOpError(node.op_type, node.name, "resizing the batch or channel axis")
    for axis in range(2, rank):
        if factors[axis] != kept[axis]:
            matrix = interpolation_matrix(node, kind, factors[axis], dims[axis], ctx.facts.opset)
            grad = _along_axis(ctx, grad, matrix, axis, rank)
    return [grad, None, None, None]


def _along_axis(ctx: BackwardContext, grad: str, matrix: np.ndarray, axis: int, rank: int) -> str:
    """grad (..., out, ...) -> (..., in, ...) along `axis`: multiplied by matrix^T."""
    perm = [*range(axis), *range(axis + 1, rank), axis]  # `axis` moved last
    moved = ctx.emit("Transpose", [grad], perm=perm)
    product = ctx.emit("MatMul", [moved, ctx.const(matrix)])  # (..., out) @ (out, in)
    return ctx.emit("Transpose", [product], perm=np.argsort(perm).tolist())
