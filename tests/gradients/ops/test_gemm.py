"""Gemm backward against torch autograd: the gradient with respect to A, B and C."""

import pytest
from onnx import helper

from tests.gradients.reference import (
    as_torch,
    assert_gradient_matches,
    constant,
    op_model,
    random_input,
)


@pytest.mark.parametrize("trans_a", [0, 1])
@pytest.mark.parametrize("trans_b", [0, 1])
@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (0.5, -2.0)])
@pytest.mark.parametrize("c_shape", [None, (4,), (1, 4), (3, 4)])
def test_gemm_gradient_wrt_a_matches_torch(trans_a, trans_b, alpha, beta, c_shape):
    b = constant((4, 5) if trans_b else (5, 4))
    constants = {"b": b}
    inputs = ["x", "b"]
    if c_shape is not None:
        constants["c"] = constant(c_shape, seed=3)
        inputs.append("c")
    node = helper.make_node(
        "Gemm", inputs, ["y"], transA=trans_a, transB=trans_b, alpha=alpha, beta=beta
    )
    x_shape = (5, 3) if trans_a else (3, 5)
    model = op_model([node], list(x_shape), constants)

    def reference(x):
        a = x.T if trans_a else x
        y = alpha * a @ (as_torch(b, x).T if trans_b else as_torch(b, x))
        return y + beta * as_torch(constants["c"], x) if c_shape is not None else y

    assert_gradient_matches(model, reference, random_input(x_shape))


@pytest.mark.parametrize("trans_a", [0, 1])
@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_gradient_wrt_b_matches_torch(trans_a, trans_b):
    a = constant((5, 3) if trans_a else (3, 5))
    node = helper.make_node("Gemm", ["a", "x"], ["y"], transA=trans_a, transB=trans_b, alpha=0.7)
    x_shape = (4, 5) if trans_b else (5, 4)
    model = op_model([node], list(x_shape), {"a": a})

    def reference(x):
        left = as_torch(a, x).T if trans_a else as_torch(a, x)
        return 0.7 * left @ (x.T if trans_b else x)

    assert_gradient_matches(model, reference, random_input(x_shape))


def test_gemm_gradient_wrt_c_is_summed_over_broadcast_rows():
    a, b = constant((3, 5)), constant((5, 4), seed=2)
    node = helper.make_node("Gemm", ["a", "b", "x"], ["y"], beta=1.5)
    model = op_model([node], [1, 4], {"a": a, "b": b})

    def reference(x):
        return as_torch(a, x) @ as_torch(b, x) + 1.5 * x

    assert_gradient_matches(model, reference, random_input((1, 4)))
