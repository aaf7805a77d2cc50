"""Tanh backward against torch autograd."""

import torch
from onnx import helper

from tests.gradients.reference import assert_activation_matches


def test_tanh_gradient_matches_torch():
    assert_activation_matches(helper.make_node("Tanh", ["x"], ["y"]), {}, torch.tanh)
