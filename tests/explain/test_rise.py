"""RISE: seeded determinism, worked examples with known maps, and its formula in torch."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from app.errors import OverBudgetError
from app.explain.base import Budget
from app.explain.rise import RISE, RISEParams, random_grids, upsampled_masks
from tests.explain.conftest import build_case, with_forward
from tests.gradients.reference import relative_error


def _probability_model(probability):
    """A 'model' whose class-0 probability is `probability(batch)` (log-probabilities out)."""

    def forward(batch: np.ndarray) -> np.ndarray:
        q = np.clip(np.asarray(probability(batch), dtype=np.float64), 1e-12, 1 - 1e-12)
        return np.log(np.stack([q, 1 - q], axis=1))

    return forward


@pytest.fixture
def ones():
    given = build_case("mnist_cnn").given([0])
    given.image = np.ones_like(given.image)  # (1, 1, 28, 28)
    return given


def test_the_same_seed_gives_the_same_map_and_another_seed_another(ones):
    ones = with_forward(
        ones, _probability_model(lambda batch: batch[:, 0, :10, :10].mean(axis=(1, 2)))
    )
    first = RISE().explain(ones, RISEParams(samples=64, seed=3)).heatmaps
    again = RISE().explain(ones, RISEParams(samples=64, seed=3)).heatmaps
    other = RISE().explain(ones, RISEParams(samples=64, seed=4)).heatmaps
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3


def test_with_every_cell_kept_the_map_is_the_target_probability(ones):
    ones = with_forward(ones, _probability_model(lambda batch: np.full(len(batch), 0.3)))
    heatmap = RISE().explain(ones, RISEParams(samples=8, p=1.0)).heatmaps[0]
    np.testing.assert_allclose(heatmap, 0.3, rtol=1e-5)


def test_a_model_blind_to_its_input_gets_a_flat_map_at_its_probability(ones):
    """E[M] = p at every pixel, so sum_i c M_i / (N p) tends to c."""
    ones = with_forward(ones, _probability_model(lambda batch: np.full(len(batch), 0.8)))
    heatmap = RISE().explain(ones, RISEParams(samples=2000, p=0.4)).heatmaps[0]
    assert abs(heatmap.mean() - 0.8) < 0.01
    assert np.abs(heatmap - 0.8).max() < 0.08


def test_a_model_that_reads_one_corner_lights_up_that_corner(ones):
    """Score = mean of the top-left 8x8 pixels: inside, the mask correlates with the score;
    far away it does not, and the map tends to E[score] E[M] / p = p."""
    ones = with_forward(
        ones, _probability_model(lambda batch: batch[:, 0, :8, :8].mean(axis=(1, 2)))
    )
    heatmap = RISE().explain(ones, RISEParams(samples=2000, p=0.5)).heatmaps[0]
    inside, far = heatmap[:8, :8].mean(), heatmap[16:, 16:].mean()
    assert inside > far + 0.1
    assert abs(far - 0.5) < 0.03


def test_rise_equals_its_formula_in_torch_with_the_same_masks():
    case = build_case("mnist_cnn")
    params = RISEParams(samples=40, grid=5, p=0.3, seed=1)
    ours = RISE().explain(case.given([1, 5]), params).heatmaps
    grids, shifts = random_grids(params)
    masks = torch.from_numpy(upsampled_masks(grids, shifts, (28, 28)))  # (N, H, W)
    with torch.no_grad():
        x = torch.from_numpy(case.image.copy())
        probabilities = torch.softmax(case.net(x * masks[:, None]), dim=1)  # (N, K)
    for row, target in enumerate((1, 5)):
        reference = (probabilities[:, target, None, None] * masks).sum(0) / (40 * 0.3)
        assert relative_error(ours[row], reference.numpy()) < 1e-4


def test_masks_are_smooth_values_in_the_unit_interval_kept_with_probability_p():
    params = RISEParams(samples=500, grid=4, p=0.25)
    masks = upsampled_masks(*random_grids(params), (30, 20))
    assert masks.shape == (500, 30, 20) and masks.min() >= 0 and masks.max() <= 1
    assert abs(masks.mean() - 0.25) < 0.02
    assert len(np.unique(masks)) > 10  # not binary: bilinear edges


def test_rise_past_the_element_budget_is_refused_before_any_forward_pass(ones):
    ones.budget = Budget(passes=10_000, elements=1_000_000)
    with pytest.raises(OverBudgetError, match="LANTERN_MAX_EXPLAIN_ELEMENTS"):
        RISE().explain(ones, RISEParams(samples=1000, grid=64))


def test_a_fine_grid_costs_about_what_a_coarse_one_costs(ones):
    """Mask upsampling by matrix products: grid 64 on 28x28 was 85 times grid 7's time."""

    def seconds(grid: int) -> float:
        started = time.perf_counter()
        RISE().explain(ones, RISEParams(samples=256, grid=grid))
        return time.perf_counter() - started

    seconds(7)  # warm
    assert seconds(64) < 4 * seconds(7)
