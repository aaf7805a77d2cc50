"""Dropout (inference: identity) backward against torch autograd."""

import pytest
from onnx import helper

from tests.gradients.reference import assert_data_movement_matches

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("dropout", [helper.make_node("Dropout", ["x"], ["y", "mask"], )], {}, lambda x: x * 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_dropout_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
