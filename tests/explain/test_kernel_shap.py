"""KernelSHAP equals Captum's KernelShap given the same superpixels and samples; its values
add up to f(x) - f(baseline) and are exact Shapley values on an additive model. Equal within
1e-3 on every model (measured on efficientnet_lite0: 8e-6)."""

from __future__ import annotations

import numpy as np
import pytest
from captum.attr import KernelShap

from app.explain.kernel_shap import KernelSHAP
from app.explain.superpixel_base import SuperpixelParams, superpixels
from tests.explain.conftest import with_forward
from tests.explain.superpixel_reference import captum_attributions, forward_of
from tests.gradients.reference import relative_error


def _check(case, params: SuperpixelParams, target: int):
    given = case.given([target])
    ours = KernelSHAP().explain(given, params)
    count = int(superpixels(given, params).max()) + 1
    keep, _ = KernelSHAP().draw(np.random.default_rng(params.seed), count, params)
    explainer = KernelShap(forward_of(case, params.score))
    reference = captum_attributions(explainer, case, params, keep, target)
    assert relative_error(ours.heatmaps[0], reference) <= 1e-3


@pytest.mark.parametrize(
    "params",
    [
        SuperpixelParams(samples=150, segments=20),
        SuperpixelParams(samples=60, segments=9, segmentation="grid", score="logit"),
    ],
)
def test_kernel_shap_equals_captum_on_random_nets(case, params):
    _check(case, params, target=6)


def test_kernel_shap_equals_captum_on_the_shipped_models(shipped):
    top = int(np.argmax(shipped.model.logits(shipped.image)))
    _check(shipped, SuperpixelParams(samples=200), top)


def test_kernel_shap_equals_captum_on_the_photo_model(photo_case):
    """50 samples of about 20 superpixels (more samples than superpixels, so the regression is
    determined): one batch of Captum's torch forward passes at 224 x 224."""
    top = int(np.argmax(photo_case.model.logits(photo_case.image)))
    _check(photo_case, SuperpixelParams(samples=50, segments=20), top)


def test_kernel_shap_values_add_up_to_the_score_minus_the_baseline_score(shipped):
    given = shipped.given([int(np.argmax(shipped.model.logits(shipped.image)))])
    params = SuperpixelParams(samples=100, score="logit")
    result = KernelSHAP().explain(given, params)
    labels = superpixels(given, params)
    values = [result.heatmaps[0][labels == k][0] for k in range(labels.max() + 1)]
    full = given.scores(given.image, "logit")[0, given.targets[0]]
    empty = given.scores(np.zeros_like(given.image), "logit")[0, given.targets[0]]
    assert sum(values) == pytest.approx(full - empty, rel=1e-3, abs=1e-3)


def test_on_an_additive_model_the_values_are_each_superpixels_own_part(case):
    """score = sum over cells of c_k times the cell's mean input: Shapley value of cell k =
    c_k (mean of x over k - mean of the baseline over k), whatever the samples."""
    given = case.given([0])
    params = SuperpixelParams(samples=40, segments=6, segmentation="grid", score="logit")
    labels = superpixels(given, params)
    factors = np.arange(1.0, labels.max() + 2)

    def forward(batch):
        means = np.stack(
            [batch[:, :, labels == k].mean(axis=(1, 2)) for k in range(len(factors))], 1
        )
        return np.repeat((means @ factors)[:, None], 10, axis=1)

    ours = KernelSHAP().explain(with_forward(given, forward), params).heatmaps[0]
    for k, factor in enumerate(factors):
        expected = factor * case.image[0][:, labels == k].mean()
        np.testing.assert_allclose(ours[labels == k], expected, rtol=1e-5, atol=1e-6)
