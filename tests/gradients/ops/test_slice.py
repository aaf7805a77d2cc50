"""Slice backward against torch autograd: axes, negative steps, default axes."""

import numpy as np
import pytest

from tests.gradients.reference import assert_data_movement_matches, one_node

I64 = np.int64
BIG = np.iinfo(np.int64).max

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("slice", [one_node("Slice", ["x", "s", "e", "a"])],
     {"s": np.array([1, 0], I64), "e": np.array([3, -1], I64), "a": np.array([2, 3], I64)},
     lambda x: x[:, :, 1:3, 0:-1]),
    ("slice_steps", [one_node("Slice", ["x", "s", "e", "a", "p"])],
     {"s": np.array([0, 4], I64), "e": np.array([BIG, -BIG], I64),
      "a": np.array([1, 3], I64), "p": np.array([2, -2], I64)},
     lambda x: x[:, ::2].flip(3)[..., ::2]),
    ("slice_default_axes", [one_node("Slice", ["x", "s", "e"])],
     {"s": np.array([0, 1, 1], I64), "e": np.array([BIG, 3, 4], I64)},
     lambda x: x[:, 1:3, 1:4]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_slice_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
