"""Deconvnet, the "rectified" gradient (Zeiler & Fergus 2014), https://arxiv.org/abs/1311.2901."""

from __future__ import annotations

from app.explain.gradient_base import GradientMethod
from app.gradients import ReluRule


class Deconvnet(GradientMethod):
    """The gradient with every ReLU passing where the incoming gradient is positive, whatever
    its forward input, as Captum `Deconvolution`: only Relu nodes change (ReLU6, a Clip,
    keeps its gradient); `extras` says how many, and whether the map is the saliency map."""

    summary = "gradient rectified at each ReLU, ignoring the forward pass (Zeiler & Fergus)"
    relu_rule = ReluRule.DECONVNET
