"""Reshape backward against torch autograd, and the ops that share its rule: Flatten,
Squeeze and Unsqueeze."""

import numpy as np
import pytest
from onnx import helper

from tests.gradients.reference import assert_data_movement_matches, one_node

I64 = np.int64

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("flatten", [one_node("Flatten")], {}, lambda x: x.flatten(1)),
    ("flatten_axis_2", [one_node("Flatten", axis=2)], {}, lambda x: x.reshape(6, 20)),
    ("reshape", [one_node("Reshape", ["x", "s"])], {"s": np.array([0, -1, 2], I64)},
     lambda x: x.reshape(2, 30, 2)),
    ("squeeze", [helper.make_node("ReduceSum", ["x", "a"], ["r"]), one_node("Squeeze", ["r", "a"])],
     {"a": np.array([1], I64)}, lambda x: x.sum(1)),
    ("unsqueeze", [one_node("Unsqueeze", ["x", "a"])], {"a": np.array([1, -1], I64)},
     lambda x: x[:, None, ..., None]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reshape_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
