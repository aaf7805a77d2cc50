"""BatchNormalization (inference) backward against torch autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.gradients.reference import assert_data_movement_matches, constant, one_node

SCALE, BIAS, MEAN = constant((3,)), constant((3,), 2), constant((3,), 3)
VAR = np.abs(constant((3,), 4)) + 0.5

# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("batch_norm", [one_node("BatchNormalization", ["x", "g", "b", "m", "v"], epsilon=1e-3)],
     {"g": SCALE, "b": BIAS, "m": MEAN, "v": VAR},
     lambda x: F.batch_norm(x, *(torch.tensor(a, dtype=x.dtype) for a in (MEAN, VAR, SCALE, BIAS)),
                            eps=1e-3)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_batch_normalization_gradient_matches_torch(nodes, constants, reference):
    assert_data_movement_matches(nodes, constants, reference)


def test_batch_normalization_with_zero_init_gammas_matches_torch():
    """timm's zero_init_last: the last BatchNorm of a residual branch starts with gamma 0."""
    gamma = np.array([0.0, 1.2, 0.0], np.float32)
    node = one_node("BatchNormalization", ["x", "g", "b", "m", "v"], epsilon=1e-5)
    constants = {"g": gamma, "b": BIAS, "m": MEAN, "v": VAR}

    def reference(x):
        stats = (MEAN, VAR, gamma, BIAS)
        return F.batch_norm(x, *(torch.tensor(a, dtype=x.dtype) for a in stats), eps=1e-5)

    assert_data_movement_matches([node], constants, reference)
