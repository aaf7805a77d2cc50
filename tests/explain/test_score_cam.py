"""Score-CAM against its formula computed in torch on the same net."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.errors import OverBudgetError
from app.explain.base import Budget, MethodParams
from app.explain.score_cam import ScoreCAM, masked_probabilities
from app.imaging.smoothing import resize_bilinear
from tests.explain.conftest import Case, with_forward
from tests.gradients.reference import relative_error


def torch_score_cam(case: Case, target: int) -> np.ndarray:
    """ReLU(sum_k softmax(net(x * M_k))[target] A_k), upsampled; M_k min-max normalised."""
    stored: dict[str, torch.Tensor] = {}
    handle = case.layer_module.register_forward_hook(lambda _m, _i, out: stored.update(a=out))
    x = torch.from_numpy(case.image.copy())
    with torch.no_grad():
        case.net(x)
        handle.remove()
        activations = stored["a"]  # (1, K, h, w)
        size = x.shape[2:]
        masks = F.interpolate(activations, size, mode="bilinear", align_corners=False)[0]
        low = masks.amin(dim=(1, 2), keepdim=True)
        span = masks.amax(dim=(1, 2), keepdim=True) - low
        masks = torch.where(span > 0, (masks - low) / span.clamp_min(1e-30), 0.0)  # (K, H, W)
        weights = torch.softmax(case.net(x * masks[:, None]), dim=1)[:, target]  # (K,)
        cam = torch.relu((weights[:, None, None] * activations[0]).sum(dim=0))
        cam = F.interpolate(cam[None, None], size, mode="bilinear", align_corners=False)
        return cam[0, 0].numpy()


def test_score_cam_equals_its_formula_in_torch(case):
    heatmaps = ScoreCAM().explain(case.given([4, 6]), MethodParams()).heatmaps
    for row, target in enumerate((4, 6)):
        assert relative_error(heatmaps[row], torch_score_cam(case, target)) < 1e-4


def test_score_cam_counts_one_forward_pass_per_varying_channel_against_the_budget(case):
    given = case.given([0])
    given.budget = Budget(5)
    with pytest.raises(OverBudgetError) as refused:
        ScoreCAM().explain(given, MethodParams())
    activations = case.taps.run(case.image, (case.layer_tensor,))[1][case.layer_tensor][0]
    spread = activations.max(axis=(1, 2)) - activations.min(axis=(1, 2))
    flat_nonzero = ((spread == 0) & (activations.max(axis=(1, 2)) != 0)).any()
    needed = int((spread > 0).sum()) + int(flat_nonzero) + 1
    assert f"needs {needed} forward passes" in refused.value.message


def _with_extra_channels(case, given, extra: np.ndarray):
    """`given` whose layer shows its activations with `extra` channels appended (fed to
    Score-CAM in place of the real ones), those activations, and the batch sizes of the
    forward runs Score-CAM then makes."""
    activations = case.taps.run(case.image, (case.layer_tensor,))[1][case.layer_tensor]
    widened = np.concatenate([activations, extra], axis=1)  # (1, K + E, h, w)
    runs: list[int] = []
    forward = given.model.logits

    def counted(batch: np.ndarray) -> np.ndarray:
        runs.append(len(batch))
        return forward(batch)

    given = with_forward(given, counted)
    given.model.taps = SimpleNamespace(  # type: ignore[assignment]
        run=lambda image, layers: (None, {case.layer_tensor: widened})
    )
    return given, widened[0].astype(np.float64), runs


def _varying(activations: np.ndarray) -> int:
    return int((activations.max(axis=(1, 2)) > activations.min(axis=(1, 2))).sum())


def test_channels_that_are_zero_everywhere_cost_no_run_and_leave_the_map_unchanged(case):
    plain = ScoreCAM().explain(case.given([3]), MethodParams()).heatmaps
    given = case.given([3])
    shape = case.taps.run(case.image, (case.layer_tensor,))[1][case.layer_tensor].shape
    zeros = np.zeros((1, 2, *shape[2:]), np.float32)
    given, widened, runs = _with_extra_channels(case, given, zeros)
    explanation = ScoreCAM().explain(given, MethodParams())
    assert np.allclose(explanation.heatmaps, plain, rtol=1e-6, atol=1e-9)
    assert sum(runs) == _varying(widened) == explanation.extras["channels_run"]


def test_a_constant_channel_is_weighted_by_the_score_of_an_all_zero_input(case):
    given = case.given([3])
    shape = case.taps.run(case.image, (case.layer_tensor,))[1][case.layer_tensor].shape
    flat = np.full((1, 2, *shape[2:]), 0.5, np.float32)  # two constant channels: one run
    given, widened, runs = _with_extra_channels(case, given, flat)
    explanation = ScoreCAM().explain(given, MethodParams())
    assert sum(runs) == _varying(widened) + 1
    weights = masked_probabilities(case.given([3]), widened)[:, 3]  # every channel, no skip
    cam = np.maximum(np.einsum("k,khw->hw", weights, widened), 0.0)[None]
    expected = resize_bilinear(cam, *case.image.shape[2:])
    assert relative_error(explanation.heatmaps, expected) < 1e-6
