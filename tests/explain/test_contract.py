"""Checks every method must pass (after Captum's shared test config): shape, dtype, finite
values, determinism, input untouched, several targets equal one-by-one."""

from __future__ import annotations

import numpy as np
import pytest

from app.explain.registry import METHODS
from tests.explain.conftest import build_case


@pytest.fixture(scope="module")
def lenet():
    return build_case("lenet5", seed=1)


@pytest.mark.parametrize("key", sorted(METHODS))
def test_every_method_keeps_the_contract(lenet, key):
    method = METHODS[key]
    params = method.Params()
    given = lenet.given([3, 8])
    before = given.image.copy()
    explanation = method.explain(given, params)
    np.testing.assert_array_equal(given.image, before)
    assert explanation.heatmaps.shape == (2, *lenet.image.shape[2:])
    assert explanation.heatmaps.dtype == np.float32
    assert np.isfinite(explanation.heatmaps).all()
    if method.family == "cam" and explanation.attributions is None:
        assert explanation.heatmaps.min() >= 0
    again = method.explain(lenet.given([3, 8]), params)
    np.testing.assert_array_equal(explanation.heatmaps, again.heatmaps)
    for row, target in enumerate((3, 8)):
        alone = method.explain(lenet.given([target]), params).heatmaps[0]
        np.testing.assert_allclose(explanation.heatmaps[row], alone, rtol=1e-4, atol=1e-6)
