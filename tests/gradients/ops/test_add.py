"""Add backward against torch autograd: broadcast constant operands on either side, and two
activations sharing an input."""

import pytest

from tests.gradients.reference import (
    BINARY_CONSTANT_SHAPES,
    assert_binary_op_of_two_activations_matches,
    assert_binary_op_with_a_constant_matches,
)


@pytest.mark.parametrize("c_shape", BINARY_CONSTANT_SHAPES, ids=str)
@pytest.mark.parametrize("x_first", [True, False], ids=["x_op_c", "c_op_x"])
def test_add_with_a_constant_matches_torch(c_shape, x_first):
    assert_binary_op_with_a_constant_matches("Add", c_shape, x_first)


def test_add_of_two_broadcast_activations_accumulates_both_paths():
    assert_binary_op_of_two_activations_matches("Add")
