"""ROAD: at each fraction, exactly the most (or least) relevant pixels by the map are
removed and imputed, and the target's probability of each imputed image is read."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluate.cases import image_cases
from app.evaluate.imputation import impute
from app.evaluate.road import FRACTIONS, road_curves, road_passes
from tests.evaluate.conftest import noise_images, tiny_rgb, with_logits


def test_each_fraction_removes_the_pixels_ranked_first_or_last_and_reads_them():
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    seen: list[np.ndarray] = []

    def forward(batch: np.ndarray) -> np.ndarray:
        seen.append(batch.copy())
        return np.tile(np.log([0.25, 0.25, 0.25, 0.25]), (len(batch), 1))

    case = with_logits(case, forward)
    heatmap = np.random.default_rng(5).random((16, 16))
    morf, lerf = road_curves(case, heatmap, np.random.default_rng(6))
    assert morf == lerf == [pytest.approx(0.25)] * len(FRACTIONS)
    (batch,) = seen
    order = np.argsort(-heatmap.ravel(), kind="stable")
    for row, fraction in enumerate(FRACTIONS * 2):
        count = round(fraction * 256)
        expected = np.zeros(256, dtype=bool)
        expected[order[:count] if row < len(FRACTIONS) else order[256 - count :]] = True
        changed = (batch[row] != case.given.image[0]).any(axis=0).ravel()
        np.testing.assert_array_equal(changed, expected)
    assert len(batch) == road_passes() == 18


def test_the_removed_pixels_are_imputed_with_seeded_noise():
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    seen: list[np.ndarray] = []
    case = with_logits(case, lambda batch: seen.append(batch.copy()) or np.zeros((len(batch), 4)))
    heatmap = np.arange(256.0).reshape(16, 16)
    for seed in (8, 8, 9):
        road_curves(case, heatmap, np.random.default_rng(seed))
    removed = (np.arange(256) >= 256 - round(0.1 * 256)).reshape(16, 16)  # the top ranks
    noise = seen[0][0] - impute(case.nchw()[0], removed)  # the first: 10%, most relevant
    assert np.abs(noise[:, ~removed]).max() < 1e-6
    assert np.std(noise[:, removed]) == pytest.approx(0.01, rel=0.25)
    np.testing.assert_array_equal(seen[0], seen[1])
    assert not np.allclose(seen[0], seen[2])
