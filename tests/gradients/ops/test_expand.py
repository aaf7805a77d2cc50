"""Expand backward against torch autograd: over a new leading axis and a size-1 axis."""

import numpy as np
import pytest
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


@pytest.mark.parametrize(
    ("x_shape", "target"), [((2, 1, 5), (2, 4, 5)), ((2, 3, 1), (3, 2, 3, 6))],
    ids=["size_one_axis", "new_leading_axis"],
)  # fmt: skip
def test_expand_gradient_matches_torch(x_shape, target):
    node = helper.make_node("Expand", ["x", "shape"], ["y"])
    model = op_model([node], list(x_shape), {"shape": np.array(target, dtype=np.int64)})
    assert_gradient_matches(model, lambda t: t.expand(*target), random_input(x_shape))
