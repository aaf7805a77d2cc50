"""Shared checks: run an explain graph and compare it with torch autograd; the builders and
cases the op tests (tests/gradients/ops/test_<op>.py) share."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from app.gradients import build_explain_graph
from tests.gradients.sessions import explain_session

TOLERANCE = 1e-4


class Seeded(nn.Module):
    """sum(seed * net(x)) per sample, as a (N, 1) output for Captum's target=0."""

    def __init__(self, net: nn.Module, seed: np.ndarray) -> None:
        super().__init__()
        self.net, self.seed = net, torch.tensor(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.net(x) * self.seed).sum(dim=1, keepdim=True)


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """max|ours - reference| / max(|reference|, tiny)."""
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-12)
    return float(np.abs(ours - reference).max(initial=0.0)) / scale


def normwise_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """||ours - reference|| / max(||reference||, tiny), the Frobenius norms: the error of the
    map as a whole, where a few pixels may differ (a ReLU6 flipped by float rounding)."""
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    scale = max(float(np.linalg.norm(reference)), 1e-12)
    return float(np.linalg.norm(ours - reference)) / scale


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
    """(y, seed, d sum(seed * fn(x)) / dx) by torch autograd, in float64.

    The seed's random stream differs from random_input's: with the same stream, a seed shaped
    like x would equal x, and the gradient of scale-invariant graphs (normalisations) would be
    zero whatever the rules do.
    """
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(inputs)
    seed = torch.tensor(np.random.default_rng([seed_rng, 1]).standard_normal(tuple(y.shape)))
    (y * seed).sum().backward()
    return y.detach().numpy(), seed.numpy().astype(np.float32), inputs.grad.numpy()


def assert_gradient_matches(
    model: onnx.ModelProto, fn: Callable, x: np.ndarray, relu_rule: int = 0
) -> None:
    """The explain graph's logits and input gradient equal torch's within TOLERANCE."""
    y, seed, expected = torch_gradient(fn, x)
    graph = build_explain_graph(model, rules=relu_rule != 0)  # the engine's choice of graph
    result = explain_session(graph).run(x, seed, relu_rule)
    assert relative_error(result.logits, y) <= TOLERANCE
    assert relative_error(result.input_grad, expected) <= TOLERANCE


def random_input(shape: tuple, seed: int = 0) -> np.ndarray:
    """Standard-normal float32 input."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def constant(shape: tuple, seed: int = 1) -> np.ndarray:
    """Random float32 weights."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def as_torch(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A constant as a torch tensor of `like`'s dtype."""
    return torch.tensor(array, dtype=like.dtype)


def one_node(op_type: str, inputs: tuple[str, ...] = ("x",), **attrs) -> onnx.NodeProto:
    """A node from `inputs` to `y`."""
    return helper.make_node(op_type, list(inputs), ["y"], **attrs)


def assert_activation_matches(
    node: onnx.NodeProto, constants: dict[str, np.ndarray], reference: Callable
) -> None:
    """One elementwise node on x (2, 3, 4, 5), scaled by 4 to reach every piece of the
    piecewise functions, against torch."""
    model = op_model([node], ["N", 3, 4, 5], constants)
    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)) * 4)


def assert_data_movement_matches(
    nodes: list[onnx.NodeProto], constants: dict[str, np.ndarray], reference: Callable
) -> None:
    """Nodes on x (2, 3, 4, 5) against torch."""
    model = op_model(nodes, ["N", 3, 4, 5], constants)
    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))


# Add, Sub, Mul and Div: each op's test file runs these with its own op.
BINARY_TORCH_OPS = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}
BINARY_CONSTANT_SHAPES = [(), (5,), (4, 1), (1, 4, 5), (1, 3, 1, 1), (2, 3, 4, 5)]


def assert_binary_op_with_a_constant_matches(
    op_type: str, c_shape: tuple[int, ...], x_first: bool
) -> None:
    """x (2, 3, 4, 5) op a broadcast constant (or the constant op x) against torch."""
    c = constant(c_shape) + (3.0 if op_type == "Div" else 0.0)  # keep divisors away from 0
    node = helper.make_node(op_type, ["x", "c"] if x_first else ["c", "x"], ["y"])
    model = op_model([node], ["N", 3, 4, 5], {"c": c})
    x = random_input((2, 3, 4, 5)) + (3.0 if op_type == "Div" and not x_first else 0.0)
    torch_op = BINARY_TORCH_OPS[op_type]

    def reference(t):
        other = as_torch(c, t)
        return torch_op(t, other) if x_first else torch_op(other, t)

    assert_gradient_matches(model, reference, x)


def assert_binary_op_of_two_activations_matches(op_type: str) -> None:
    """x op b(x), b broadcast from (N, 1, 4): the gradient accumulates over both paths."""
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1),  # (N, 1, 4)
        helper.make_node("Sigmoid", ["m"], ["s"]),
        helper.make_node("Add", ["s", "one"], ["b"]),  # in (1, 2): a safe divisor
        helper.make_node(op_type, ["x", "b"], ["y"]),
    ]
    model = op_model(nodes, ["N", 3, 4], {"one": constant(()) * 0 + 1})

    def reference(x):
        b = torch.sigmoid(x.mean(dim=1, keepdim=True)) + 1
        return BINARY_TORCH_OPS[op_type](x, b)

    assert_gradient_matches(model, reference, random_input((2, 3, 4)))
