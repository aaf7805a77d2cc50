"""Guided backpropagation equals Captum's GuidedBackprop."""

from __future__ import annotations

from captum.attr import GuidedBackprop as CaptumGuidedBackprop

from app.explain.guided_backprop import GuidedBackprop
from tests.gradients.reference import relative_error


def test_guided_backprop_equals_captum(case):
    for target in (0, 7):
        ours = GuidedBackprop().explain(case.given([target]), GuidedBackprop.Params())
        reference = CaptumGuidedBackprop(case.net).attribute(case.tensor(), target=target)
        assert relative_error(ours.attributions[0], reference.detach().numpy()[0]) <= 1e-4
