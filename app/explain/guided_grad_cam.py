"""Guided Grad-CAM (Selvaraju et al. 2017), https://arxiv.org/abs/1610.02391."""

from __future__ import annotations

from app.explain.base import Cost, ExplainInput, Explanation, Method, Workload, reduce_channels
from app.explain.grad_cam import GradCAM
from app.explain.gradient_base import GradientParams, input_gradients
from app.gradients import ReluRule


class GuidedGradCAM(Method):
    """Guided backpropagation (per channel) times the upsampled Grad-CAM map. Upsampling is
    bilinear, as for Grad-CAM here (Captum `GuidedGradCam` upsamples with nearest)."""

    family = "cam"
    uses_layer = True
    summary = "guided backpropagation masked by Grad-CAM"
    Params = GradientParams

    def explain(self, given: ExplainInput, params: GradientParams) -> Explanation:
        cam = GradCAM().explain(given, params).heatmaps  # (T, H, W)
        guided = input_gradients(given, ReluRule.GUIDED)  # (T, C, H, W)
        attributions = guided * cam[:, None]
        return Explanation(reduce_channels(attributions, params.reduce), attributions)

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """Grad-CAM's run and guided backpropagation's, per target."""
        return Cost(2 * work.targets, 2 * work.targets)
