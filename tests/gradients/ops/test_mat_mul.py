"""MatMul backward against torch autograd: batched, broadcast, either operand, and x @ x."""

import pytest
from onnx import helper

from tests.gradients.reference import (
    as_torch,
    assert_gradient_matches,
    constant,
    op_model,
    random_input,
)

# (id, x shape, constant shape, x is the left operand)
CASES = [
    ("dense", (3, 6), (6, 4), True),
    ("batched_x_2d_weight", (2, 3, 4, 6), (6, 5), True),
    ("broadcast_batch", (2, 1, 4, 6), (3, 6, 5), True),
    ("x_on_the_right", (2, 6, 4), (3, 6), False),
    ("x_on_the_right_broadcast", (1, 6, 4), (2, 3, 6), False),
]


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "x_left"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_matmul_gradient_matches_torch(x_shape, w_shape, x_left):
    weight = constant(w_shape)
    node = helper.make_node("MatMul", ["x", "w"] if x_left else ["w", "x"], ["y"])
    model = op_model([node], list(x_shape), {"w": weight})

    def reference(x):
        return x @ as_torch(weight, x) if x_left else as_torch(weight, x) @ x

    assert_gradient_matches(model, reference, random_input(x_shape))


def test_matmul_of_an_activation_with_itself_sums_both_gradients():
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["x", "xt"], ["y"]),
    ]
    model = op_model(nodes, ["N", 3, 4])
    assert_gradient_matches(model, lambda x: x @ x.transpose(1, 2), random_input((2, 3, 4)))
