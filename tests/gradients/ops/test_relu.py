"""Relu backward against torch autograd, and the relu rule (gradient, guided, deconvnet)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph
from tests.gradients.reference import (
    assert_activation_matches,
    assert_gradient_matches,
    op_model,
    random_input,
)
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
    result = explain_session(build_explain_graph(model, rules=True)).run(x, seed, relu_rule)
    np.testing.assert_array_equal(result.input_grad, np.where(passes(x, seed), seed, 0))


def test_a_graph_without_rules_has_no_rule_input_and_refuses_a_rule():
    model = op_model([helper.make_node("Relu", ["x"], ["y"])], ["N", 3, 4, 5])
    graph = build_explain_graph(model)
    assert graph.relu_rule_name is None
    assert "relu_rule" not in {v.name for v in graph.model.graph.input}
    x, seed = random_input((2, 3, 4, 5)), random_input((2, 3, 4, 5), seed=7)
    with pytest.raises(ValueError, match="no ReLU rules"):
        explain_session(graph).run(x, seed, 1)


def test_the_plain_gradient_passes_exactly_where_the_output_is_positive_even_denormal():
    """The graph without rules masks with HardSigmoids (steps.py): exact at 0, at the
    smallest denormal and at the largest float, as torch's grad * (x > 0)."""
    model = op_model([helper.make_node("Relu", ["x"], ["y"])], ["N", 8])
    tiny = np.float32(2.0**-149)
    x = np.array([[0.0, -0.0, tiny, -tiny, 1e-38, 3.4e38, -1.0, 0.5]], np.float32)
    seed = np.arange(1, 9, dtype=np.float32)[None] * np.float32(1.5)
    result = explain_session(build_explain_graph(model)).run(x, seed)
    np.testing.assert_array_equal(result.input_grad, np.where(x > 0, seed, 0))


@pytest.mark.parametrize("relu_rule", [1, 2])
def test_relu_rule_leaves_relu6_and_leaky_relu_on_their_plain_gradient(relu_rule):
    nodes = [
        helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.1),
        helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
    ]
    model = op_model(nodes, ["N", 8], {"lo": np.float32(0), "hi": np.float32(6)})
    x, seed = random_input((4, 8)) * 5, random_input((4, 8), seed=3)
    plain = explain_session(build_explain_graph(model)).run(x, seed, 0).input_grad
    graph = build_explain_graph(model, rules=True)
    ruled = explain_session(graph).run(x, seed, relu_rule).input_grad
    np.testing.assert_array_equal(ruled, plain)


def test_relu_after_a_zero_init_batch_norm_gets_exact_zeros_and_passes_nothing_there():
    """A residual branch's last BatchNorm with gamma 0 (timm's zero_init_last) gives exact
    zeros; torch's relu passes no gradient at 0, and neither may the engine."""
    gamma = np.zeros(3, np.float32)
    gamma[1] = 1.5  # one live channel beside two dead ones
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["n"]),
        helper.make_node("Relu", ["n"], ["y"]),
    ]
    constants = {"g": gamma, "b": np.zeros(3, np.float32), "m": np.zeros(3, np.float32),
                 "v": np.ones(3, np.float32)}  # fmt: skip
    model = op_model(nodes, ["N", 3, 4, 5], constants)

    def reference(x):
        return F.relu(x * torch.tensor(gamma, dtype=x.dtype).reshape(3, 1, 1) / (1 + 1e-5) ** 0.5)

    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))
