"""LIME equals Captum's Lime given the same superpixels, samples, similarity and ridge, within
1e-3 on every model (measured on efficientnet_lite0: 3e-6)."""

from __future__ import annotations

import numpy as np
import pytest
from captum._utils.models.linear_model import SkLearnRidge
from captum.attr import Lime

from app.explain.lime import LIME, LIMEParams, lime_similarity
from app.explain.superpixel_base import superpixels
from tests.explain.conftest import with_forward
from tests.explain.superpixel_reference import captum_attributions, forward_of
from tests.gradients.reference import relative_error


def _captum_lime(case, params: LIMEParams, keep, target):
    def similarity(_original, _perturbed, interpretable, **_kwargs):
        return float(lime_similarity(interpretable.numpy(), params.kernel_width)[0])

    explainer = Lime(
        forward_of(case, params.score),
        interpretable_model=SkLearnRidge(alpha=params.ridge),
        similarity_func=similarity,
    )
    return captum_attributions(explainer, case, params, keep, target)


def _check(case, params: LIMEParams, target: int):
    given = case.given([target])
    ours = LIME().explain(given, params)
    count = int(superpixels(given, params).max()) + 1
    keep, _ = LIME().draw(np.random.default_rng(params.seed), count, params)
    reference = _captum_lime(case, params, keep, target)
    assert relative_error(ours.heatmaps[0], reference) <= 1e-3


@pytest.mark.parametrize(
    "params",
    [
        LIMEParams(samples=120, segments=20),
        LIMEParams(samples=80, segments=12, segmentation="grid", score="logit", ridge=0.5),
    ],
)
def test_lime_equals_captum_on_random_nets(case, params):
    _check(case, params, target=3)


def test_lime_equals_captum_on_the_shipped_models(shipped):
    top = int(np.argmax(shipped.model.logits(shipped.image)))
    _check(shipped, LIMEParams(samples=200, baseline="blur"), top)


def test_lime_equals_captum_on_the_photo_model(photo_case):
    """50 samples of about 20 superpixels: one batch of Captum's torch forward passes at
    224 x 224 (about 10 s on two cores), a fifth of the shipped models' 200 samples."""
    top = int(np.argmax(photo_case.model.logits(photo_case.image)))
    _check(photo_case, LIMEParams(samples=50, segments=20, baseline="blur"), top)


def test_the_similarity_is_one_for_the_image_and_falls_with_what_is_hidden():
    keep = np.array([[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    weights = lime_similarity(keep, 0.25)
    distances = 1 - np.array([1.0, 3 / np.sqrt(12), 1 / 2, 0.0])
    np.testing.assert_allclose(weights, np.exp(-(distances**2) / (2 * 0.25**2)))
    assert weights[0] == 1 and np.all(np.diff(weights) < 0)


def test_a_model_that_sums_two_superpixels_gets_them_and_only_them(case):
    """A stand-in model whose score is the mean input over two grid cells: LIME's surrogate
    is exact, coefficient = the cells' share of the score, 0 elsewhere."""
    given = case.given([0])
    params = LIMEParams(samples=64, segments=4, segmentation="grid", score="logit", ridge=0)
    labels = superpixels(given, params)
    cells = (labels == 0) | (labels == 3)

    def forward(batch):
        totals = (batch[:, :, cells]).sum(axis=(1, 2))  # (N,)
        return np.repeat(totals[:, None], 10, axis=1)

    ours = LIME().explain(with_forward(given, forward), params).heatmaps[0]
    image = case.image[0]
    for label in range(4):
        expected = image[:, labels == label].sum() if label in (0, 3) else 0.0
        np.testing.assert_allclose(ours[labels == label], expected, rtol=1e-6, atol=1e-6)
