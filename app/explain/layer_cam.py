"""Layer-CAM (Jiang et al. 2021), https://ieeexplore.ieee.org/document/9462463."""

from __future__ import annotations

import numpy as np

from app.explain.cam_base import CAMMethod


class LayerCAM(CAMMethod):
    """Each position weighted by its own positive gradient: ReLU(sum_k ReLU(G_k) * A_k);
    useful on shallow layers, where Grad-CAM's averaged weights blur."""

    summary = "activations weighted by their positive gradient at each position"

    def layer_map(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        return (np.maximum(gradients, 0) * activations).sum(axis=1)
