"""Relu backward against torch autograd, and the relu rule (gradient, guided, deconvnet)."""

import numpy as np
import pytest
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph
from tests.gradients.reference import assert_activation_matches, op_model, random_input
from tests.gradients.sessions import explain_session


def test_relu_gradient_matches_torch():
    assert_activation_matches(helper.make_node("Relu", ["x"], ["y"]), {}, F.relu)


@pytest.mark.parametrize(
    ("relu_rule", "passes"),
    [
        (0, lambda x, g: x > 0),
        (1, lambda x, g: (x > 0) & (g > 0)),
        (2, lambda x, g: g > 0),
    ],
    ids=["gradient", "guided", "deconvnet"],
)
def test_relu_rule_input_selects_how_relu_passes_the_gradient(relu_rule, passes):
    model = op_model([helper.make_node("Relu", ["x"], ["y"])], ["N", 3, 4, 5])
    x, seed = random_input((2, 3, 4, 5)), random_input((2, 3, 4, 5), seed=7)
    result = explain_session(build_explain_graph(model)).run(x, seed, relu_rule)
    np.testing.assert_array_equal(result.input_grad, np.where(passes(x, seed), seed, 0))


@pytest.mark.parametrize("relu_rule", [1, 2])
def test_relu_rule_leaves_relu6_and_leaky_relu_on_their_plain_gradient(relu_rule):
    nodes = [
        helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.1),
        helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
    ]
    model = op_model(nodes, ["N", 8], {"lo": np.float32(0), "hi": np.float32(6)})
    x, seed = random_input((4, 8)) * 5, random_input((4, 8), seed=3)
    plain = explain_session(build_explain_graph(model)).run(x, seed, 0).input_grad
    ruled = explain_session(build_explain_graph(model)).run(x, seed, relu_rule).input_grad
    np.testing.assert_array_equal(ruled, plain)
