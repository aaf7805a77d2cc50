"""pytorch-grad-cam as the reference of the CAM family, and the one convention that separates
its maps from ours: it min-max normalises each map (at the layer's resolution, then resizes
with OpenCV's bilinear, which for upsampling matches ours); Lantern's maps are not
normalised. An affine map commutes with bilinear resizing, so both are compared min-max
normalised at the input's resolution."""

from __future__ import annotations

import numpy as np
import torch

from bench.libraries import pytorch_grad_cam
from tests.explain.conftest import Case
from tests.gradients.reference import relative_error


def min_max(heatmap: np.ndarray) -> np.ndarray:
    low, high = float(heatmap.min()), float(heatmap.max())
    assert high > low, "a constant map says nothing"
    return (heatmap - low) / (high - low)


def reference_map(cam_class: type, case: Case, target: int, **options) -> np.ndarray:
    """pytorch-grad-cam's map (H, W) of `target` for the case's image and CAM layer."""
    library = pytorch_grad_cam()
    cam = cam_class(model=case.net, target_layers=[case.layer_module], **options)
    targets = [library.utils.model_targets.ClassifierOutputTarget(target)]
    return cam(input_tensor=torch.from_numpy(case.image.copy()), targets=targets)[0]


def assert_equal_up_to_normalisation(ours: np.ndarray, reference: np.ndarray, tolerance: float):
    assert ours.shape == reference.shape
    assert relative_error(min_max(ours), min_max(reference)) <= tolerance
