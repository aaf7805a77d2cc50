"""Gradient x input (Shrikumar et al. 2016), https://arxiv.org/abs/1605.01713."""

from __future__ import annotations

from app.explain.base import ExplainInput
from app.explain.gradient_base import Attribution, GradientMethod, GradientParams, input_gradients


class GradientXInput(GradientMethod):
    """The input gradient times the input, in the model's (normalised) input space, as Captum
    `InputXGradient`."""

    summary = "input gradient times the input"

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        return input_gradients(given) * given.nchw(given.image), {}  # (T, C, H, W)
