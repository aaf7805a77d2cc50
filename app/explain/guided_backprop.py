"""Guided backpropagation (Springenberg et al. 2015), https://arxiv.org/abs/1412.6806."""

from __future__ import annotations

from app.explain.gradient_base import GradientMethod
from app.gradients import ReluRule


class GuidedBackprop(GradientMethod):
    """The gradient with every ReLU passing only where both its input and the incoming gradient
    are positive. As Captum `GuidedBackprop`, only Relu nodes change; ReLU6 (Clip) and the other
    activations keep their plain gradient. `extras` says how many Relu nodes the rule changed
    and whether, with none (a ReLU6 model), the map is the saliency map (`relu_rule_reach`)."""

    summary = "gradient through ReLUs that pass only positive input and positive gradient"
    relu_rule = ReluRule.GUIDED
