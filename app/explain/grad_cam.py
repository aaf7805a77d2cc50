"""Grad-CAM (Selvaraju et al. 2017), https://arxiv.org/abs/1610.02391."""

from __future__ import annotations

import numpy as np

from app.explain.cam_base import CAMMethod


class GradCAM(CAMMethod):
    """Channels weighted by their spatially averaged gradient: ReLU(sum_k mean(G_k) A_k)."""

    summary = "layer activations weighted by their mean gradient"

    def layer_map(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        weights = gradients.mean(axis=(2, 3), keepdims=True)  # (T, K, 1, 1)
        return (weights * activations).sum(axis=1)
