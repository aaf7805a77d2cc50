"""Ablation-CAM equals pytorch-grad-cam's AblationCAM up to min-max normalisation, on layers
whose smallest activation is 0 (where both zero an ablated channel)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

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


class LiteHead(nn.Module):
    """efficientnet_lite0's twin from the head's ReLU6 on: its input is the ReLU6's input,
    its modules the twin's own (the same objects), so the same function of the layer."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.head_act, self._fc = net.head_act, net._fc

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self._fc(F.adaptive_avg_pool2d(self.head_act(z), 1).flatten(1))  # (N, 1000)


def test_ablation_cam_equals_pytorch_grad_cam_on_the_photo_model(photo_case):
    """pytorch-grad-cam's AblationLayer replaces the layer and answers the ablated copies of
    the activations it saved, whatever comes in: the 1,280 ablations of the head each rerun
    the whole twin for nothing (about 95 s on two cores). Given the twin from the layer on
    (`LiteHead`, fed the layer's input), its AblationCAM computes the same weights and the same
    7x7 map in under 15 s; `scale_cam_image` then resizes it to 224 x 224 as its own pipeline
    does. Within 1e-4, as on the other models (measured: 2e-6)."""
    case = photo_case
    _, taps = case.taps.run(case.image, (case.layer_tensor,))
    assert taps[case.layer_tensor].min() == 0  # a ReLU6: pytorch-grad-cam zeroes a channel
    stored: dict[str, torch.Tensor] = {}
    hook = case.layer_module.register_forward_hook(lambda _m, i, _o: stored.update(z=i[0]))
    with torch.no_grad():
        logits = case.net(torch.from_numpy(case.image.copy()))
    hook.remove()
    head = LiteHead(case.net).eval()
    with torch.no_grad():
        torch.testing.assert_close(head(stored["z"]), logits, rtol=0, atol=0)
    top = int(np.argmax(case.model.logits(case.image)))
    ours = AblationCAM().explain(case.given([top]), AblationCAM.Params()).heatmaps[0]
    library = pytorch_grad_cam()
    cam = library.AblationCAM(model=head, target_layers=[head.head_act], batch_size=256)
    targets = [library.utils.model_targets.ClassifierOutputTarget(top)]
    layer_map = cam(input_tensor=stored["z"], targets=targets)  # (1, 7, 7)
    reference = library.utils.image.scale_cam_image(layer_map, case.image.shape[:1:-1])[0]
    assert_equal_up_to_normalisation(ours, reference, 1e-4)


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
