"""Score-CAM against its formula computed in torch on the same net."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.errors import OverBudgetError
from app.explain.base import Budget, MethodParams
from app.explain.score_cam import ScoreCAM
from tests.explain.conftest import Case
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


def test_score_cam_counts_one_forward_pass_per_channel_against_the_budget(case):
    given = case.given([0])
    given.budget = Budget(5)
    with pytest.raises(OverBudgetError) as refused:
        ScoreCAM().explain(given, MethodParams())
    channels = case.taps.run(case.image, (case.layer_tensor,))[1][case.layer_tensor].shape[1]
    assert f"needs {channels + 1} forward passes" in refused.value.message
