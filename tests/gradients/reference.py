"""Shared checks: run an explain graph and compare it with torch autograd."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from app.gradients import ExplainSession, build_explain_graph

TOLERANCE = 1e-4


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """max|ours - reference| / max(|reference|, tiny)."""
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-12)
    return float(np.abs(ours - reference).max(initial=0.0)) / scale


def op_model(
    nodes: list[onnx.NodeProto],
    x_shape: list,
    constants: dict[str, np.ndarray] | None = None,
    opset: int = 17,
) -> onnx.ModelProto:
    """A graph from input `x` to output `y` made of `nodes` and float32 constants."""
    initializers = [
        numpy_helper.from_array(np.asarray(value), name)
        for name, value in (constants or {}).items()
    ]
    graph = helper.make_graph(
        nodes,
        "op_under_test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def torch_gradient(fn: Callable, x: np.ndarray, seed_rng: int = 0):
    """(y, seed, d sum(seed * fn(x)) / dx) by torch autograd, in float64."""
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(inputs)
    seed = torch.tensor(np.random.default_rng(seed_rng).standard_normal(tuple(y.shape)))
    (y * seed).sum().backward()
    return y.detach().numpy(), seed.numpy().astype(np.float32), inputs.grad.numpy()


def assert_gradient_matches(
    model: onnx.ModelProto, fn: Callable, x: np.ndarray, relu_rule: int = 0
) -> None:
    """The explain graph's logits and input gradient equal torch's within TOLERANCE."""
    y, seed, expected = torch_gradient(fn, x)
    result = ExplainSession(build_explain_graph(model)).run(x, seed, relu_rule)
    assert relative_error(result.logits, y) <= TOLERANCE
    assert relative_error(result.input_grad, expected) <= TOLERANCE


def random_input(shape: tuple, seed: int = 0) -> np.ndarray:
    """Standard-normal float32 input."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def constant(shape: tuple, seed: int = 1) -> np.ndarray:
    """Random float32 weights."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
