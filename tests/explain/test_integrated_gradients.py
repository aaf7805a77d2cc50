"""Integrated Gradients equals Captum's (riemann_trapezoid) and reports its completeness gap."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIntegratedGradients

from app.explain.integrated_gradients import (
    IntegratedGradients,
    IntegratedGradientsParams,
    make_baseline,
)
from tests.gradients.reference import relative_error


@pytest.mark.parametrize("baseline", ["zeros", "blur", "uniform"])
def test_integrated_gradients_equals_captum_trapezoid_up_to_its_step_weight(case, baseline):
    params = IntegratedGradientsParams(steps=16, baseline=baseline, blur_sigma=1.5)
    given = case.given([6])
    ours = IntegratedGradients().explain(given, params)
    reference = CaptumIntegratedGradients(case.net).attribute(
        case.tensor(),
        baselines=torch.from_numpy(make_baseline(given, params)),
        target=6,
        n_steps=16,
        method="riemann_trapezoid",
    )
    captum_weight = (16 - 1) / 16  # Captum's trapezoid weights sum to (n - 1) / n, ours to 1
    reference = reference.detach().numpy()[0] / captum_weight
    assert relative_error(ours.attributions[0], reference) <= 1e-4


def test_the_completeness_gap_shrinks_with_more_steps(case):
    given = case.given([1])
    gaps = [
        abs(
            IntegratedGradients()
            .explain(given, IntegratedGradientsParams(steps=s))
            .extras["completeness_gap"][0]
        )
        for s in (4, 64)
    ]
    assert gaps[1] <= gaps[0] + 1e-6
    explanation = IntegratedGradients().explain(given, IntegratedGradientsParams(steps=64))
    with torch.no_grad():
        logits = case.net(torch.from_numpy(np.concatenate([np.zeros_like(case.image), case.image])))
    rise = float(logits[1, 1] - logits[0, 1])
    assert explanation.extras["logit_difference"][0] == pytest.approx(rise, rel=1e-4, abs=1e-5)
