"""XGrad-CAM equals pytorch-grad-cam's XGradCAM up to min-max normalisation, within 1e-4 on
every model (measured on efficientnet_lite0's head: 3e-6)."""

from __future__ import annotations

import numpy as np

from app.explain.xgrad_cam import XGradCAM
from bench.libraries import pytorch_grad_cam
from tests.explain.cam_reference import assert_equal_up_to_normalisation, reference_map


def _check(case, targets):
    for target in targets:
        ours = XGradCAM().explain(case.given([target]), XGradCAM.Params()).heatmaps[0]
        reference = reference_map(pytorch_grad_cam().XGradCAM, case, target)
        assert_equal_up_to_normalisation(ours, reference, 1e-4)


def test_xgrad_cam_equals_pytorch_grad_cam_on_random_nets(case):
    _check(case, (0, 7))


def test_xgrad_cam_equals_pytorch_grad_cam_on_the_shipped_models(shipped):
    top = int(np.argmax(shipped.model.logits(shipped.image)))
    _check(shipped, (top, (top + 1) % shipped.classes))


def test_xgrad_cam_equals_pytorch_grad_cam_on_the_photo_model(photo_case):
    top = int(np.argmax(photo_case.model.logits(photo_case.image)))
    _check(photo_case, (top, (top + 1) % photo_case.classes))


def test_xgrad_cam_weights_are_the_activation_weighted_gradient_by_hand():
    activations = np.array([[[[1.0, 3.0]], [[0.0, 0.0]]]])  # (T=1, K=2, h=1, w=2)
    gradients = np.array([[[[2.0, -1.0]], [[5.0, 5.0]]]])
    # channel 0: w = (1 * 2 + 3 * -1) / 4 = -0.25; channel 1 sums to 0: weight 0
    np.testing.assert_allclose(XGradCAM().layer_map(activations, gradients), [[[-0.25, -0.75]]])
