"""Pad backward against torch autograd: positive and negative pads, a fill value."""

import numpy as np
import pytest
import torch.nn.functional as F

from tests.gradients.reference import assert_data_movement_matches, one_node

I64 = np.int64

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("pad", [one_node("Pad", ["x", "p"])], {"p": np.array([0, 0, 1, 2, 0, 1, 3, 0], I64)},
     lambda x: F.pad(x, (2, 0, 1, 3, 0, 1))),
    ("pad_negative", [one_node("Pad", ["x", "p"])],
     {"p": np.array([0, 0, -1, 2, 0, 0, 1, -2], I64)},
     lambda x: F.pad(x, (2, -2, -1, 1))),
    ("pad_value", [one_node("Pad", ["x", "p", "v"])],
     {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64), "v": np.float32(2.0)},
     lambda x: F.pad(x, (1, 1, 1, 1), value=2.0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_pad_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)
