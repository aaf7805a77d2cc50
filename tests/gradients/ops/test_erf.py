"""Erf backward against torch autograd, and the exact GELU it builds (x/2 (1 + erf(x/√2)))."""

import math

import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import (
    assert_activation_matches,
    assert_gradient_matches,
    op_model,
    random_input,
)


def test_erf_gradient_matches_torch():
    assert_activation_matches(helper.make_node("Erf", ["x"], ["y"]), {}, torch.erf)


def test_gelu_as_older_exporters_write_it_matches_torch():
    nodes = [
        helper.make_node("Div", ["x", "root2"], ["scaled"]),
        helper.make_node("Erf", ["scaled"], ["erf"]),
        helper.make_node("Add", ["erf", "one"], ["shifted"]),
        helper.make_node("Mul", ["x", "shifted"], ["doubled"]),
        helper.make_node("Mul", ["doubled", "half"], ["y"]),
    ]
    constants = {"root2": math.sqrt(2.0), "one": 1.0, "half": 0.5}
    model = op_model(nodes, ["N", 3, 8], {k: torch.tensor(v).numpy() for k, v in constants.items()})
    assert_gradient_matches(model, F.gelu, random_input((2, 3, 8)) * 3)
