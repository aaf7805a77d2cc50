"""Cast on the gradient path against torch autograd: a float32 -> float64 -> float32 round
trip (as autocast-safe exports write), and a Cast to int64 that ends the path."""

import torch
from onnx import TensorProto, helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


def test_cast_between_float_types_passes_the_gradient_back_in_the_input_type():
    nodes = [
        helper.make_node("Cast", ["x"], ["wide"], to=TensorProto.DOUBLE),
        helper.make_node("Mul", ["wide", "wide"], ["square"]),
        helper.make_node("Cast", ["square"], ["y"], to=TensorProto.FLOAT),
    ]
    model = op_model(nodes, ["N", 3, 4])
    assert_gradient_matches(model, lambda t: t * t, random_input((2, 3, 4)))


def test_cast_to_an_integer_type_ends_the_gradient_path():
    nodes = [
        helper.make_node("Cast", ["x"], ["rounded"], to=TensorProto.INT64),
        helper.make_node("Cast", ["rounded"], ["back"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["x", "back"], ["y"]),
    ]
    model = op_model(nodes, ["N", 3, 4])
    assert_gradient_matches(
        model, lambda t: t + torch.trunc(t).detach(), random_input((2, 3, 4)) * 3
    )
