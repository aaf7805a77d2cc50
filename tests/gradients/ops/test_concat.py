"""Concat backward against torch autograd: activations and constants, the batch axis."""

import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_data_movement_matches, constant, one_node

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("concat",
     [helper.make_node("Relu", ["x"], ["r"]), one_node("Concat", ["x", "w", "r"], axis=2)],
     {"w": constant((2, 3, 1, 5))},
     lambda x: torch.cat([x, torch.tensor(constant((2, 3, 1, 5)), dtype=x.dtype), F.relu(x)], 2)),
    ("concat_batch_axis", [one_node("Concat", ["x", "x"], axis=0)], {},
     lambda x: torch.cat([x, x])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_concat_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
