"""Saliency equals torch autograd's input gradient; its map is keras-vis's max |gradient|."""

from __future__ import annotations

import numpy as np
import torch

from app.explain.saliency import Saliency
from tests.gradients.reference import relative_error


def test_saliency_attributions_equal_torch_autograd(case):
    target = 3
    explanation = Saliency().explain(case.given([target]), Saliency.Params())
    x = case.tensor()
    (reference,) = torch.autograd.grad(case.net(x)[0, target], x)
    assert relative_error(explanation.attributions[0], reference.numpy()[0]) <= 1e-4
    np.testing.assert_allclose(
        explanation.heatmaps[0], np.abs(reference.numpy()[0]).max(axis=0), rtol=1e-4, atol=1e-7
    )


def test_the_signed_map_sums_the_channels(case):
    explanation = Saliency().explain(case.given([1]), Saliency.Params(reduce="sum"))
    assert explanation.signed
    np.testing.assert_allclose(
        explanation.heatmaps, explanation.attributions.sum(axis=1), rtol=1e-6
    )
