"""Guided Grad-CAM equals Captum's guided backprop times the bilinear Grad-CAM map."""

from __future__ import annotations

from captum.attr import GuidedBackprop, LayerAttribution, LayerGradCam

from app.explain.guided_grad_cam import GuidedGradCAM
from tests.gradients.reference import relative_error


def test_guided_grad_cam_is_guided_backprop_masked_by_grad_cam(case):
    target = 5
    cam = LayerGradCam(case.net, case.layer_module).attribute(
        case.tensor(), target=target, relu_attributions=True
    )
    cam = LayerAttribution.interpolate(cam, case.image.shape[2:], "bilinear")
    guided = GuidedBackprop(case.net).attribute(case.tensor(), target=target)
    reference = (guided * cam).detach().numpy()[0]
    ours = GuidedGradCAM().explain(case.given([target]), GuidedGradCAM.Params())
    assert relative_error(ours.attributions[0], reference) <= 1e-4
