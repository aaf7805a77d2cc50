"""HardSigmoid backward against torch autograd: ONNX's default slope and torch's."""

import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_activation_matches


@pytest.mark.parametrize(
    ("attrs", "reference"),
    [({}, lambda x: torch.clamp(0.2 * x + 0.5, 0, 1)), ({"alpha": 1 / 6}, F.hardsigmoid)],
    ids=["default", "torch"],
)
def test_hard_sigmoid_gradient_matches_torch(attrs, reference):
    node = helper.make_node("HardSigmoid", ["x"], ["y"], **attrs)
    assert_activation_matches(node, {}, reference)
