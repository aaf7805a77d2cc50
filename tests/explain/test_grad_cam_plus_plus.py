"""Grad-CAM++ equals the paper's closed form computed from torch autograd."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from app.explain.grad_cam_plus_plus import GradCAMPlusPlus
from tests.explain.conftest import torch_layer_activations_and_gradients
from tests.gradients.reference import relative_error


def test_grad_cam_plus_plus_equals_its_formula_on_torch_gradients(case):
    target = 4
    activation, gradient = torch_layer_activations_and_gradients(case, target)
    total = activation.sum(dim=(2, 3), keepdim=True)
    alpha = gradient**2 / (2 * gradient**2 + total * gradient**3)
    alpha = torch.where(gradient != 0, alpha, torch.zeros_like(alpha))
    weights = (alpha * F.relu(gradient)).sum(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activation).sum(dim=1, keepdim=True))
    reference = F.interpolate(cam, case.image.shape[2:], mode="bilinear", align_corners=False)
    ours = GradCAMPlusPlus().explain(case.given([target]), GradCAMPlusPlus.Params())
    assert relative_error(ours.heatmaps[0], reference.numpy()[0, 0]) <= 1e-4
