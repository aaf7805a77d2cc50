"""PRelu backward against torch autograd."""

import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_activation_matches, constant

SLOPE = constant((3, 1, 1)) * 0.3


def test_p_relu_gradient_matches_torch():
    node = helper.make_node("PRelu", ["x", "s"], ["y"])
    reference = lambda x: F.prelu(x, torch.tensor(SLOPE.ravel(), dtype=x.dtype))  # noqa: E731
    assert_activation_matches(node, {"s": SLOPE}, reference)
