"""Gelu (opset 20) backward against torch autograd, exact and tanh-approximated."""

import pytest
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradient_matches_torch(approximate):
    node = helper.make_node("Gelu", ["x"], ["y"], approximate=approximate)
    model = op_model([node], ["N", 3, 4, 5], opset=20)
    x = random_input((2, 3, 4, 5)) * 4

    assert_gradient_matches(model, lambda t: F.gelu(t, approximate=approximate), x)
