"""Ablation-CAM equals pytorch-grad-cam's AblationCAM up to min-max normalisation, on layers
whose smallest activation is 0 (where both zero an ablated channel)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.errors import OverBudgetError
from app.explain.ablation_cam import AblationCAM
from app.explain.base import Budget
from app.imaging.smoothing import resize_bilinear
from bench.libraries import pytorch_grad_cam
from tests.explain.cam_reference import assert_equal_up_to_normalisation, reference_map


def _check(case, targets):
    _, taps = case.taps.run(case.image, (case.layer_tensor,))
    assert taps[case.layer_tensor].min() == 0  # pytorch-grad-cam zeroes only then
    for target in targets:
        ours = AblationCAM().explain(case.given([target]), AblationCAM.Params()).heatmaps[0]
        reference = reference_map(pytorch_grad_cam().AblationCAM, case, target)
        assert_equal_up_to_normalisation(ours, reference, 1e-4)


def test_ablation_cam_equals_pytorch_grad_cam_on_random_nets(case):
    _check(case, (0, 5))


def test_ablation_cam_equals_pytorch_grad_cam_on_the_shipped_models(shipped):
    top = int(np.argmax(shipped.model.logits(shipped.image)))
    _check(shipped, (top,))


class ChannelMeanNet:
    """Stand-in taps and tail of a net whose every output is the sum of the layer's channel
    means: zeroing channel k drops the score by mean(A_k), so w_k = mean(A_k) / sum(means)."""

    def __init__(self, layer: str, activations: np.ndarray) -> None:
        self.layer, self.activations = layer, activations  # (1, K, h, w)

    def score(self, activations: np.ndarray) -> np.ndarray:
        totals = activations.mean(axis=(2, 3)).sum(axis=1, keepdims=True)  # (N, 1)
        return np.repeat(totals, 10, axis=1)  # (N, 10)

    def run(self, *args):  # taps.run(batch, layers) and tails.run(layer, copies, upstream)
        if len(args) == 2:
            return self.score(self.activations), {self.layer: self.activations}
        return self.score(args[1])

    def upstream(self, layer: str) -> tuple[str, ...]:
        return ()


def test_ablation_cam_weights_are_the_relative_score_drops_by_hand(case):
    given = case.given([0])
    _, taps = case.taps.run(case.image, (case.layer_tensor,))
    activations = taps[case.layer_tensor].astype(np.float64)  # (1, K, h, w)
    net = ChannelMeanNet(case.layer_tensor, activations)
    given.model = dataclasses.replace(given.model, taps=net, tails=net)
    ours = AblationCAM().explain(given, AblationCAM.Params()).heatmaps[0]
    means = activations[0].mean(axis=(1, 2))
    expected = np.maximum(np.einsum("k,khw->hw", means / means.sum(), activations[0]), 0)
    expected = resize_bilinear(expected, *case.image.shape[2:])
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-7)


def test_ablation_cam_counts_one_pass_per_channel_and_one_more_against_the_budget(case):
    given = case.given([0])
    channels = given.workload().layer_channels
    given.budget = Budget(channels)
    with pytest.raises(OverBudgetError, match=f"{channels + 1} forward passes"):
        AblationCAM().explain(given, AblationCAM.Params())
