"""Softmax backward against torch autograd, on the last axis, another axis, and opset 11's
flattening semantics."""

import pytest
from onnx import helper

from tests.gradients.reference import (
    assert_activation_matches,
    assert_gradient_matches,
    op_model,
    random_input,
)


@pytest.mark.parametrize(("attrs", "axis"), [({}, -1), ({"axis": 1}, 1)], ids=["last", "axis_1"])
def test_softmax_gradient_matches_torch(attrs, axis):
    node = helper.make_node("Softmax", ["x"], ["y"], **attrs)
    assert_activation_matches(node, {}, lambda x: x.softmax(axis))


def test_softmax_of_opset_11_keeps_its_flattening_semantics():
    model = op_model([helper.make_node("Softmax", ["x"], ["y"])], ["N", 3, 4], opset=11)

    def reference(x):
        return x.reshape(len(x), -1).softmax(-1).reshape(x.shape)

    assert_gradient_matches(model, reference, random_input((2, 3, 4)))
