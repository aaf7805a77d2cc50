"""Grad-CAM++ (Chattopadhyay et al. 2018), https://arxiv.org/abs/1710.11063."""

from __future__ import annotations

import numpy as np

from app.explain.cam_base import CAMMethod


class GradCAMPlusPlus(CAMMethod):
    """Channels weighted by sum_ij alpha_ij ReLU(G_ij), with the paper's closed form for an
    exponential score: alpha = G^2 / (2 G^2 + sum_ab A_ab G^3), 0 where G is 0 (eq. 19)."""

    summary = "Grad-CAM with pixel-wise weights on positive gradients"

    def layer_map(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        squared, cubed = gradients**2, gradients**3
        total = activations.sum(axis=(2, 3), keepdims=True)  # (T, K, 1, 1)
        denominator = 2 * squared + total * cubed
        safe = np.where(denominator != 0, denominator, 1.0)
        alpha = np.where(gradients != 0, squared / safe, 0.0)
        weights = (alpha * np.maximum(gradients, 0)).sum(axis=(2, 3), keepdims=True)
        return (weights * activations).sum(axis=1)
