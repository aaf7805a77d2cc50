"""Add, Sub, Mul and Div backward: broadcasting, constant operands, shared activations."""

import pytest
import torch
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input

TORCH_OPS = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}
CONSTANT_SHAPES = [(), (5,), (4, 1), (1, 4, 5), (1, 3, 1, 1), (2, 3, 4, 5)]


@pytest.mark.parametrize("op_type", sorted(TORCH_OPS))
@pytest.mark.parametrize("c_shape", CONSTANT_SHAPES, ids=str)
@pytest.mark.parametrize("x_first", [True, False], ids=["x_op_c", "c_op_x"])
def test_binary_op_with_a_constant_matches_torch(op_type, c_shape, x_first):
    c = constant(c_shape) + (3.0 if op_type == "Div" else 0.0)  # keep divisors away from 0
    node = helper.make_node(op_type, ["x", "c"] if x_first else ["c", "x"], ["y"])
    model = op_model([node], ["N", 3, 4, 5], {"c": c})
    x = random_input((2, 3, 4, 5)) + (3.0 if op_type == "Div" and not x_first else 0.0)

    def reference(t):
        other = torch.tensor(c, dtype=t.dtype)
        return TORCH_OPS[op_type](t, other) if x_first else TORCH_OPS[op_type](other, t)

    assert_gradient_matches(model, reference, x)


@pytest.mark.parametrize("op_type", sorted(TORCH_OPS))
def test_binary_op_of_two_broadcast_activations_accumulates_both_paths(op_type):
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1),  # (N, 1, 4)
        helper.make_node("Sigmoid", ["m"], ["s"]),
        helper.make_node("Add", ["s", "one"], ["b"]),  # in (1, 2): a safe divisor
        helper.make_node(op_type, ["x", "b"], ["y"]),
    ]
    model = op_model(nodes, ["N", 3, 4], {"one": constant(()) * 0 + 1})

    def reference(x):
        b = torch.sigmoid(x.mean(dim=1, keepdim=True)) + 1
        return TORCH_OPS[op_type](x, b)

    assert_gradient_matches(model, reference, random_input((2, 3, 4)))
