"""LeakyRelu backward against torch autograd."""

import pytest
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_activation_matches


@pytest.mark.parametrize(
    ("attrs", "slope"), [({}, 0.01), ({"alpha": 0.2}, 0.2)], ids=["default", "alpha"]
)
def test_leaky_relu_gradient_matches_torch(attrs, slope):
    node = helper.make_node("LeakyRelu", ["x"], ["y"], **attrs)
    assert_activation_matches(node, {}, lambda x: F.leaky_relu(x, slope))
