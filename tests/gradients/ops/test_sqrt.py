"""Sqrt backward against torch autograd (inputs kept positive)."""

import numpy as np
import torch
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


def test_sqrt_gradient_matches_torch():
    model = op_model([helper.make_node("Sqrt", ["x"], ["y"])], ["N", 3, 4, 5])
    x = np.abs(random_input((2, 3, 4, 5))) + 0.1
    assert_gradient_matches(model, torch.sqrt, x)
