"""Layer-CAM equals ReLU(sum_k ReLU(G_k) * A_k) from torch autograd, upsampled."""

from __future__ import annotations

import torch.nn.functional as F

from app.explain.layer_cam import LayerCAM
from tests.explain.conftest import torch_layer_activations_and_gradients
from tests.gradients.reference import relative_error


def test_layer_cam_equals_its_formula_on_torch_gradients(case):
    activation, gradient = torch_layer_activations_and_gradients(case, 8)
    cam = F.relu((F.relu(gradient) * activation).sum(dim=1, keepdim=True))
    reference = F.interpolate(cam, case.image.shape[2:], mode="bilinear", align_corners=False)
    ours = LayerCAM().explain(case.given([8]), LayerCAM.Params())
    assert relative_error(ours.heatmaps[0], reference.numpy()[0, 0]) <= 1e-4
