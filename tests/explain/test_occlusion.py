"""Occlusion against Captum's Occlusion on the same torch net, and its class map and budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Occlusion as CaptumOcclusion

from app.errors import OverBudgetError
from app.explain.base import Budget
from app.explain.occlusion import Occlusion, OcclusionParams
from app.imaging.smoothing import gaussian_blur
from tests.explain.conftest import build_case, with_forward
from tests.gradients.reference import relative_error

SETTINGS = [
    # (window, stride, baseline, score): the last window per axis is cut off in most of them
    ((4, 4), 2, "constant", "probability"),
    ((5, 3), 3, "mean", "logit"),
    ((6, 6), 4, "blur", "probability"),
]


def _captum_baseline(image: np.ndarray, params: OcclusionParams) -> torch.Tensor | float:
    if params.baseline == "mean":
        mean = image.mean(axis=(2, 3), keepdims=True)  # (1, C, 1, 1)
        return torch.from_numpy(np.broadcast_to(mean, image.shape).copy())
    if params.baseline == "blur":
        return torch.from_numpy(gaussian_blur(image, params.blur_sigma))
    return params.fill


@pytest.mark.parametrize(("window", "stride", "baseline", "score"), SETTINGS)
def test_occlusion_equals_captum_with_the_same_window_stride_and_baseline(
    window, stride, baseline, score
):
    case = build_case("mnist_cnn")
    params = OcclusionParams(
        window_height=window[0], window_width=window[1], stride=stride, baseline=baseline,
        score=score, fill=0.3,
    )  # fmt: skip
    ours = Occlusion().explain(case.given([2, 7]), params).heatmaps

    def forward(x: torch.Tensor) -> torch.Tensor:
        logits = case.net(x)
        return logits if score == "logit" else torch.softmax(logits, dim=1)

    captum = CaptumOcclusion(forward)
    for row, target in enumerate((2, 7)):
        reference = captum.attribute(
            torch.from_numpy(case.image.copy()), sliding_window_shapes=(1, *window),
            strides=(1, stride, stride), baselines=_captum_baseline(case.image, params),
            target=target, perturbations_per_eval=16,
        )[0, 0].detach().numpy()  # fmt: skip
        assert relative_error(ours[row], reference) < 1e-4


def test_occlusion_of_a_constant_model_is_zero():
    case = build_case("mnist_cnn")
    given = case.given([0])
    given = with_forward(
        given, lambda batch: np.tile(np.arange(10, dtype=np.float32), (len(batch), 1))
    )
    explanation = Occlusion().explain(given, OcclusionParams())
    np.testing.assert_array_equal(explanation.heatmaps, 0.0)
    assert np.unique(explanation.extras["class_map"]).tolist() == [9]


def _top_left_black_wins(batch: np.ndarray) -> np.ndarray:
    black = (batch[:, 0, :14, :14] == 0).any(axis=(1, 2)).astype(float)
    return np.stack([np.zeros(len(batch)), black], axis=1)


def test_the_class_map_names_the_winner_when_each_patch_is_hidden():
    case = build_case("mnist_cnn")
    given = case.given([0])
    # class 1 wins when anything in the top-left quarter is black, class 0 otherwise
    given = with_forward(given, _top_left_black_wins)
    given.image = np.ones_like(given.image)
    params = OcclusionParams(window_height=7, window_width=7, stride=7)
    class_map = np.array(Occlusion().explain(given, params).extras["class_map"])
    assert class_map.shape == (28, 28)
    assert (class_map[:14, :14] == 1).all() and class_map.sum() == 14 * 14


def test_a_stride_larger_than_the_window_leaves_uncovered_pixels_at_zero():
    case = build_case("mnist_cnn")
    params = OcclusionParams(window_height=2, window_width=2, stride=5)
    heatmap = Occlusion().explain(case.given([1]), params).heatmaps[0]
    assert (heatmap[2:5, :] == 0).all() and (heatmap[:2, :2] != 0).any()


def test_occlusion_over_budget_is_refused_before_any_forward_pass():
    case = build_case("mnist_cnn")
    given = case.given([1])
    given.budget = Budget(100)
    with pytest.raises(OverBudgetError) as refused:
        Occlusion().explain(given, OcclusionParams(window_height=4, window_width=4, stride=2))
    assert "170 forward passes" in refused.value.message and "100" in refused.value.message


def test_occlusion_past_the_element_budget_is_refused_before_any_forward_pass():
    given = build_case("mnist_cnn").given([1])
    given.budget = Budget(passes=10_000, elements=100_000)
    with pytest.raises(OverBudgetError, match="array elements"):
        Occlusion().explain(given, OcclusionParams(window_height=2, window_width=2, stride=1))
