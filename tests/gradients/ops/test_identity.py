"""Identity backward against torch autograd."""

import pytest

from tests.gradients.reference import assert_data_movement_matches, one_node

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("identity", [one_node("Identity")], {}, lambda x: x * 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_identity_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
