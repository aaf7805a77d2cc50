"""HiRes-CAM equals ReLU(sum_k G_k * A_k) from torch autograd, upsampled."""

from __future__ import annotations

import torch.nn.functional as F

from app.explain.hires_cam import HiResCAM
from tests.explain.conftest import torch_layer_activations_and_gradients
from tests.gradients.reference import relative_error


def test_hires_cam_equals_its_formula_on_torch_gradients(case):
    activation, gradient = torch_layer_activations_and_gradients(case, 2)
    cam = F.relu((gradient * activation).sum(dim=1, keepdim=True))
    reference = F.interpolate(cam, case.image.shape[2:], mode="bilinear", align_corners=False)
    ours = HiResCAM().explain(case.given([2]), HiResCAM.Params())
    assert relative_error(ours.heatmaps[0], reference.numpy()[0, 0]) <= 1e-4
