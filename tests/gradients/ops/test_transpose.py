"""Transpose backward against torch autograd, with and without `perm`."""

import pytest

from tests.gradients.reference import assert_data_movement_matches, one_node

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("transpose", [one_node("Transpose", perm=[0, 2, 3, 1])], {}, lambda x: x.permute(0, 2, 3, 1)),
    ("transpose_default", [one_node("Transpose")], {}, lambda x: x.permute(3, 2, 1, 0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_transpose_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
