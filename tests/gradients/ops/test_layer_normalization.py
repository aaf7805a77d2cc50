"""LayerNormalization backward against torch autograd: over the last axis (ViT, ConvNeXt's
channels-last norm) and over the last two, with and without a bias."""

import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input


@pytest.mark.parametrize(("axis", "bias"), [(-1, True), (1, True), (-1, False)], ids=str)
def test_layer_normalization_gradient_matches_torch(axis, bias):
    shape = (2, 4, 6)
    normalized = shape[axis % 3 :]
    scale, offset = constant(normalized) + 1, constant(normalized, seed=2)
    inputs = ["x", "scale", "bias"] if bias else ["x", "scale"]
    node = helper.make_node("LayerNormalization", inputs, ["y"], axis=axis, epsilon=1e-6)
    constants = {"scale": scale, "bias": offset} if bias else {"scale": scale}
    model = op_model([node], ["N", 4, 6], constants)

    def reference(x):
        weight = torch.tensor(scale, dtype=x.dtype)
        shift = torch.tensor(offset, dtype=x.dtype) if bias else None
        return F.layer_norm(x, normalized, weight, shift, eps=1e-6)

    assert_gradient_matches(model, reference, random_input(shape) * 2 + 1)
