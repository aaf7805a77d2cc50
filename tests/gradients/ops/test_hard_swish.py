"""HardSwish backward against torch autograd."""

import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_activation_matches


def test_hard_swish_gradient_matches_torch():
    assert_activation_matches(helper.make_node("HardSwish", ["x"], ["y"]), {}, F.hardswish)
