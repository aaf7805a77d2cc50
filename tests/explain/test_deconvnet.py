"""Deconvnet equals Captum's Deconvolution."""

from __future__ import annotations

from captum.attr import Deconvolution

from app.explain.deconvnet import Deconvnet
from tests.gradients.reference import relative_error


def test_deconvnet_equals_captum_deconvolution(case):
    for target in (2, 5):
        ours = Deconvnet().explain(case.given([target]), Deconvnet.Params())
        reference = Deconvolution(case.net).attribute(case.tensor(), target=target)
        assert relative_error(ours.attributions[0], reference.detach().numpy()[0]) <= 1e-4
