"""Vanilla saliency (Simonyan et al. 2014), https://arxiv.org/abs/1312.6034."""

from __future__ import annotations

from app.explain.gradient_base import GradientMethod


class Saliency(GradientMethod):
    """The gradient of the target logit with respect to the input pixels.

    Attributions are the signed gradient (Captum `Saliency(abs=False)`); the default map is
    keras-vis's, the largest |gradient| over the channels (`reduce=max_abs`).
    """

    summary = "gradient of the class score with respect to each pixel"
