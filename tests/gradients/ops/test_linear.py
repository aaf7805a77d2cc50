"""Gemm and MatMul backward against torch autograd."""

import pytest
import torch
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input


def _t(array, like):
    return torch.tensor(array, dtype=like.dtype)


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
        y = alpha * a @ (_t(b, x).T if trans_b else _t(b, x))
        return y + beta * _t(constants["c"], x) if c_shape is not None else y

    assert_gradient_matches(model, reference, random_input(x_shape))


@pytest.mark.parametrize("trans_a", [0, 1])
@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_gradient_wrt_b_matches_torch(trans_a, trans_b):
    a = constant((5, 3) if trans_a else (3, 5))
    node = helper.make_node("Gemm", ["a", "x"], ["y"], transA=trans_a, transB=trans_b, alpha=0.7)
    x_shape = (4, 5) if trans_b else (5, 4)
    model = op_model([node], list(x_shape), {"a": a})

    def reference(x):
        left = _t(a, x).T if trans_a else _t(a, x)
        return 0.7 * left @ (x.T if trans_b else x)

    assert_gradient_matches(model, reference, random_input(x_shape))


def test_gemm_gradient_wrt_c_is_summed_over_broadcast_rows():
    a, b = constant((3, 5)), constant((5, 4), seed=2)
    node = helper.make_node("Gemm", ["a", "b", "x"], ["y"], beta=1.5)
    model = op_model([node], [1, 4], {"a": a, "b": b})

    def reference(x):
        return _t(a, x) @ _t(b, x) + 1.5 * x

    assert_gradient_matches(model, reference, random_input((1, 4)))


# (id, x shape, constant shape, x is the left operand)
MATMUL_CASES = [
    ("dense", (3, 6), (6, 4), True),
    ("batched_x_2d_weight", (2, 3, 4, 6), (6, 5), True),
    ("broadcast_batch", (2, 1, 4, 6), (3, 6, 5), True),
    ("x_on_the_right", (2, 6, 4), (3, 6), False),
    ("x_on_the_right_broadcast", (1, 6, 4), (2, 3, 6), False),
]


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "x_left"),
    [c[1:] for c in MATMUL_CASES],
    ids=[c[0] for c in MATMUL_CASES],
)
def test_matmul_gradient_matches_torch(x_shape, w_shape, x_left):
    weight = constant(w_shape)
    node = helper.make_node("MatMul", ["x", "w"] if x_left else ["w", "x"], ["y"])
    model = op_model([node], list(x_shape), {"w": weight})

    def reference(x):
        return x @ _t(weight, x) if x_left else _t(weight, x) @ x

    assert_gradient_matches(model, reference, random_input(x_shape))


def test_matmul_of_an_activation_with_itself_sums_both_gradients():
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["x", "xt"], ["y"]),
    ]
    model = op_model(nodes, ["N", 3, 4])
    assert_gradient_matches(model, lambda x: x @ x.transpose(1, 2), random_input((2, 3, 4)))
