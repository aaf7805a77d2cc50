"""Gradient x input equals Captum's InputXGradient."""

from __future__ import annotations

from captum.attr import InputXGradient

from app.explain.gradient_x_input import GradientXInput
from tests.gradients.reference import relative_error


def test_gradient_x_input_equals_captum(case):
    ours = GradientXInput().explain(case.given([4]), GradientXInput.Params())
    reference = InputXGradient(case.net).attribute(case.tensor(), target=4)
    assert relative_error(ours.attributions[0], reference.detach().numpy()[0]) <= 1e-4
