"""Means with their 95% intervals, and the correlations, against cases worked out by hand and
Student's t quantiles integrated numerically from the density."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.evaluate.statistics import pearson, ranks, spearman, summarise, t_quantile


def t_by_integration(df: int, probability: float = 0.975) -> float:
    """The quantile found by integrating Student's density from 0 (a reference of its own)."""
    norm = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    grid = np.linspace(0.0, 40.0, 4_000_001)
    density = norm * (1 + grid**2 / df) ** (-(df + 1) / 2)
    area = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    return float(np.interp(probability - 0.5, area, grid))


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 19, 30, 31, 45, 120])
def test_the_t_quantile_matches_the_integrated_density(df):
    assert t_quantile(df) == pytest.approx(t_by_integration(df), abs=2e-3)


def test_the_interval_of_one_two_three_is_worked_out_by_hand():
    found = summarise([1.0, 2.0, 3.0])
    half = 4.3027 * 1.0 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(n), s = 1
    assert (found.mean, found.n) == (2.0, 3)
    assert found.low == pytest.approx(2.0 - half) and found.high == pytest.approx(2.0 + half)


def test_undefined_values_are_left_out_and_shown_as_none():
    found = summarise([0.5, None, float("nan"), 1.5])
    assert (found.mean, found.n, found.values) == (1.0, 2, [0.5, None, None, 1.5])
    lone = summarise([None, 0.25])
    assert (lone.mean, lone.low, lone.high, lone.n) == (0.25, None, None, 1)
    assert summarise([None]).mean is None


def test_pearson_and_spearman_of_hand_made_vectors():
    # x - mean = (-1, 0, 1), y - mean = (-7/3, -1/3, 8/3): r = 5 / sqrt(2 * 114/9)
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) == pytest.approx(
        5 / math.sqrt(2 * 114 / 9)
    )
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 300.0])) == pytest.approx(1.0)
    assert spearman(np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(-1.0)


def test_tied_values_share_their_mean_rank_and_constants_have_no_correlation():
    np.testing.assert_allclose(ranks(np.array([5.0, 1.0, 5.0, 0.0])), [3.5, 2.0, 3.5, 1.0])
    assert pearson(np.ones(4), np.arange(4.0)) is None
    assert spearman(np.arange(4.0), np.zeros(4)) is None
