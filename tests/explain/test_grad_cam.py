"""Grad-CAM equals Captum's LayerGradCam (relu_attributions=True) upsampled bilinearly."""

from __future__ import annotations

from captum.attr import LayerAttribution, LayerGradCam

from app.explain.grad_cam import GradCAM
from tests.gradients.reference import relative_error


def test_grad_cam_equals_captum_layer_grad_cam_then_bilinear_upsampling(case):
    for target in (0, 9):
        ours = GradCAM().explain(case.given([target]), GradCAM.Params())
        cam = LayerGradCam(case.net, case.layer_module).attribute(
            case.tensor(), target=target, relu_attributions=True
        )
        reference = LayerAttribution.interpolate(cam, case.image.shape[2:], "bilinear")
        assert ours.heatmaps.shape == (1, *case.image.shape[2:])
        assert relative_error(ours.heatmaps[0], reference.detach().numpy()[0, 0]) <= 1e-4
