"""Split backward against torch autograd, with outputs unused and reordered."""

import numpy as np
import pytest
import torch
from onnx import helper

from tests.gradients.reference import assert_data_movement_matches, one_node

I64 = np.int64

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("split", [helper.make_node("Split", ["x", "s"], ["a", "b", "c"], axis=3),
               helper.make_node("Mul", ["a", "k"], ["ak"]),
               one_node("Concat", ["c", "ak"], axis=3)],
     {"s": np.array([2, 1, 2], I64), "k": np.float32(3.0)},
     lambda x: torch.cat([x[..., 3:], 3 * x[..., :2]], 3)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_split_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
