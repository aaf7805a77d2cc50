"""LRP through ReLU6 passes relevance unchanged, above the clip too (worked by hand)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from app.explain.lrp import LRP, LRPParams
from tests.explain.propagation_reference import exported, given_for


def test_relu6_hands_on_all_its_relevance_even_above_six():
    """logits = w2 * relu6(w1 . x): with the epsilon rule (epsilon tiny, no biases) the
    input's relevance is x_i w1_i / (w1 . x) of the logit, though w1 . x = 9 is clipped to 6
    (where the gradient, and so gradient x input, would give nothing)."""
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(2, 1, bias=False), nn.ReLU6(), nn.Linear(1, 2, bias=False)
    )
    net[1].weight.data = torch.tensor([[2.0, 3.0]])
    net[3].weight.data = torch.tensor([[1.5], [-1.0]])
    x = np.array([1.5, 2.0], dtype=np.float32).reshape(1, 1, 1, 2)
    ours = LRP().explain(
        given_for(exported(net, (1, 1, 2)), x, 0), LRPParams(rules="epsilon", epsilon=1e-9)
    )
    logit = 1.5 * 6.0
    expected = np.array([1.5 * 2.0, 2.0 * 3.0]) / 9.0 * logit
    np.testing.assert_allclose(ours.attributions.reshape(2), expected, rtol=1e-6)
