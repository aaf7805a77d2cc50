"""GlobalMaxPool backward against torch autograd (ties to the first maximum)."""

import numpy as np
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


def test_global_max_pool_gradient_goes_to_the_first_maximum_as_torch():
    model = op_model([helper.make_node("GlobalMaxPool", ["x"], ["y"])], ["N", 3, 5, 4])
    x = np.round(random_input((2, 3, 5, 4)))  # ties included
    assert_gradient_matches(model, lambda t: F.adaptive_max_pool2d(t, 1), x)
