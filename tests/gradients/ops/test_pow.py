"""Pow backward against torch autograd: float and integer exponents, and the
ReduceMean/Sub/Pow/Sqrt/Div LayerNorm that older exporters write."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


@pytest.mark.parametrize(
    "exponent", [np.float32(2.0), np.float32(0.5), np.int64(3), np.full((5,), 1.5, np.float32)],
    ids=["square", "root", "integer_cube", "broadcast"],
)  # fmt: skip
def test_pow_gradient_matches_torch(exponent):
    model = op_model([helper.make_node("Pow", ["x", "p"], ["y"])], ["N", 3, 4, 5], {"p": exponent})
    x = np.abs(random_input((2, 3, 4, 5))) + 0.2  # fractional powers need a positive base

    assert_gradient_matches(model, lambda t: t ** torch.tensor(exponent, dtype=t.dtype), x)


def test_layer_norm_written_out_by_older_exporters_matches_torch():
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1], keepdims=1),
        helper.make_node("Sub", ["x", "mean"], ["centred"]),
        helper.make_node("Pow", ["centred", "two"], ["square"]),
        helper.make_node("ReduceMean", ["square"], ["var"], axes=[-1], keepdims=1),
        helper.make_node("Add", ["var", "eps"], ["shifted"]),
        helper.make_node("Sqrt", ["shifted"], ["std"]),
        helper.make_node("Div", ["centred", "std"], ["y"]),
    ]
    constants = {"two": np.float32(2.0), "eps": np.float32(1e-6)}
    model = op_model(nodes, ["N", 5, 8], constants)
    assert_gradient_matches(
        model, lambda t: F.layer_norm(t, (8,), eps=1e-6), random_input((2, 5, 8))
    )
