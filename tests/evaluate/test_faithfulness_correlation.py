"""Faithfulness correlation: its random subsets, and its pairs (the map summed over a subset,
the output drop when the subset is removed) against Captum's `infidelity` given the same
subsets, which is the mean squared gap of those very pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.metrics import infidelity

from app.evaluate.cases import image_cases
from app.evaluate.faithfulness_correlation import (
    faithfulness_correlation,
    output_drops,
    random_subsets,
)
from app.evaluate.statistics import pearson
from app.explain.faithfulness import substrate_input
from tests.evaluate.conftest import noise_images, tiny_rgb


def test_every_subset_holds_the_same_number_of_distinct_pixels():
    subsets = random_subsets(np.random.default_rng(0), (16, 16), 0.1, 32)
    assert subsets.shape == (32, 16, 16)
    assert set(subsets.sum(axis=(1, 2)).tolist()) == {26}  # round(0.1 * 256)
    assert len({row.tobytes() for row in subsets}) == 32


def test_the_pairs_give_captums_infidelity_on_the_same_subsets():
    (case,) = image_cases(tiny_rgb(), noise_images(1, seed=3), "predicted")
    base = substrate_input(case.given, "black")  # (1, 3, 16, 16)
    subsets = random_subsets(np.random.default_rng(1), (16, 16), 0.2, 16)
    heatmap = np.random.default_rng(2).normal(size=(16, 16))
    drops = output_drops(case, base, subsets)
    sums = subsets.reshape(16, -1) @ heatmap.ravel()

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        scores = case.given.scores(inputs.detach().numpy().astype(np.float32))
        return torch.from_numpy(scores[:, case.target])

    def perturb(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        masks = torch.from_numpy(subsets[:, None].repeat(3, axis=1))  # (R, 3, H, W)
        removed = torch.where(masks, torch.from_numpy(base), inputs)
        return masks.double() / 3, removed  # a pixel's three channels share its attribution

    attributions = torch.from_numpy(np.broadcast_to(heatmap, (1, 3, 16, 16)).copy())
    reference = infidelity(
        forward,
        perturb,
        torch.from_numpy(case.nchw()),
        attributions,
        n_perturb_samples=16,
        normalize=False,
    )
    assert float(reference) == pytest.approx(np.mean((sums - drops) ** 2), rel=1e-5)
    assert faithfulness_correlation(heatmap, subsets, drops) == pytest.approx(
        np.corrcoef(sums, drops)[0, 1]
    )


def test_a_map_constant_on_the_image_has_no_correlation():
    subsets = random_subsets(np.random.default_rng(3), (4, 4), 0.25, 8)
    drops = np.random.default_rng(4).random(8)
    assert faithfulness_correlation(np.ones((4, 4)), subsets, drops) is None
    assert pearson(np.arange(3.0), np.array([1.0, 1.0, 1.0])) is None
