"""LogSoftmax backward against torch autograd."""

import pytest
from onnx import helper

from tests.gradients.reference import assert_activation_matches


@pytest.mark.parametrize(("attrs", "axis"), [({}, -1), ({"axis": 1}, 1)], ids=["last", "axis_1"])
def test_log_softmax_gradient_matches_torch(attrs, axis):
    node = helper.make_node("LogSoftmax", ["x"], ["y"], **attrs)
    assert_activation_matches(node, {}, lambda x: x.log_softmax(axis))
