"""HiRes-CAM (Draelos & Carin 2020), https://arxiv.org/abs/2011.08891."""

from __future__ import annotations

import numpy as np

from app.explain.cam_base import CAMMethod


class HiResCAM(CAMMethod):
    """The element-wise product of gradients and activations, summed over channels:
    ReLU(sum_k G_k * A_k). Faithful to the model where Grad-CAM averages gradients away."""

    summary = "gradient times activation at each position, summed over channels"

    def layer_map(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        return (gradients * activations).sum(axis=1)
