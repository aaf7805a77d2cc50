"""Elementwise activations, Softmax and LogSoftmax backward against torch autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input

SLOPE = constant((3, 1, 1)) * 0.3

# (id, onnx node, constants, torch function)
CASES = [
    ("relu", helper.make_node("Relu", ["x"], ["y"]), {}, F.relu),
    ("leaky_relu_default", helper.make_node("LeakyRelu", ["x"], ["y"]), {},
     lambda x: F.leaky_relu(x, 0.01)),
    ("leaky_relu_alpha", helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.2), {},
     lambda x: F.leaky_relu(x, 0.2)),
    ("prelu", helper.make_node("PRelu", ["x", "s"], ["y"]), {"s": SLOPE},
     lambda x: F.prelu(x, torch.tensor(SLOPE.ravel(), dtype=x.dtype))),
    ("clip_relu6", helper.make_node("Clip", ["x", "lo", "hi"], ["y"]),
     {"lo": np.float32(0.0), "hi": np.float32(0.5)}, lambda x: F.hardtanh(x, 0.0, 0.5)),
    ("clip_min_only", helper.make_node("Clip", ["x", "lo"], ["y"]), {"lo": np.float32(-0.3)},
     lambda x: torch.clamp(x, min=-0.3)),
    ("clip_max_only", helper.make_node("Clip", ["x", "", "hi"], ["y"]), {"hi": np.float32(0.4)},
     lambda x: torch.clamp(x, max=0.4)),
    ("clip_unbounded", helper.make_node("Clip", ["x"], ["y"]), {}, lambda x: x * 1),
    ("sigmoid", helper.make_node("Sigmoid", ["x"], ["y"]), {}, torch.sigmoid),
    ("tanh", helper.make_node("Tanh", ["x"], ["y"]), {}, torch.tanh),
    ("hard_sigmoid_default", helper.make_node("HardSigmoid", ["x"], ["y"]), {},
     lambda x: torch.clamp(0.2 * x + 0.5, 0, 1)),
    ("hard_sigmoid_torch", helper.make_node("HardSigmoid", ["x"], ["y"], alpha=1 / 6), {},
     F.hardsigmoid),
    ("hard_swish", helper.make_node("HardSwish", ["x"], ["y"]), {}, F.hardswish),
    ("softmax_last", helper.make_node("Softmax", ["x"], ["y"]), {}, lambda x: x.softmax(-1)),
    ("softmax_axis_1", helper.make_node("Softmax", ["x"], ["y"], axis=1), {},
     lambda x: x.softmax(1)),
    ("log_softmax_last", helper.make_node("LogSoftmax", ["x"], ["y"]), {},
     lambda x: x.log_softmax(-1)),
    ("log_softmax_axis_1", helper.make_node("LogSoftmax", ["x"], ["y"], axis=1), {},
     lambda x: x.log_softmax(1)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("node", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_activation_gradient_matches_torch(node, constants, reference):
    model = op_model([node], ["N", 3, 4, 5], constants)
    x = random_input((2, 3, 4, 5)) * 4  # reaches every piece of the piecewise functions
    assert_gradient_matches(model, reference, x)


def test_clip_with_attribute_bounds_matches_torch():
    node = helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=0.5)
    model = op_model([node], ["N", 6], opset=6)
    assert_gradient_matches(model, lambda x: F.hardtanh(x, -0.5, 0.5), random_input((3, 6)))


def test_softmax_of_opset_11_keeps_its_flattening_semantics():
    model = op_model([helper.make_node("Softmax", ["x"], ["y"])], ["N", 3, 4], opset=11)

    def reference(x):
        return x.reshape(len(x), -1).softmax(-1).reshape(x.shape)

    assert_gradient_matches(model, reference, random_input((2, 3, 4)))


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
    from app.gradients import ExplainSession, build_explain_graph

    model = op_model([helper.make_node("Relu", ["x"], ["y"])], ["N", 3, 4, 5])
    x, seed = random_input((2, 3, 4, 5)), random_input((2, 3, 4, 5), seed=7)
    result = ExplainSession(build_explain_graph(model)).run(x, seed, relu_rule)
    np.testing.assert_array_equal(result.input_grad, np.where(passes(x, seed), seed, 0))


@pytest.mark.parametrize("relu_rule", [1, 2])
def test_relu_rule_leaves_relu6_and_leaky_relu_on_their_plain_gradient(relu_rule):
    from app.gradients import ExplainSession, build_explain_graph

    nodes = [
        helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.1),
        helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
    ]
    model = op_model(nodes, ["N", 8], {"lo": np.float32(0), "hi": np.float32(6)})
    x, seed = random_input((4, 8)) * 5, random_input((4, 8), seed=3)
    plain = ExplainSession(build_explain_graph(model)).run(x, seed, 0).input_grad
    ruled = ExplainSession(build_explain_graph(model)).run(x, seed, relu_rule).input_grad
    np.testing.assert_array_equal(ruled, plain)
