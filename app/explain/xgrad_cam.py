"""XGrad-CAM (Fu et al. 2020), https://arxiv.org/abs/2008.02312."""

from __future__ import annotations

import numpy as np

from app.explain.cam_base import CAMMethod


class XGradCAM(CAMMethod):
    """Channels weighted by their gradient averaged under their own activation:
    ReLU(sum_k w_k A_k), w_k = sum_ij (A_k,ij / sum_ab A_k,ab) G_k,ij (the axioms-derived
    weights of the paper, eq. 10). A channel whose activations sum to 0 gets weight 0
    (pytorch-grad-cam's `XGradCAM` adds 1e-7 to the sum instead)."""

    summary = "activations weighted by their activation-weighted mean gradient"

    def layer_map(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        total = activations.sum(axis=(2, 3), keepdims=True)  # (T, K, 1, 1)
        share = np.divide(activations, total, out=np.zeros_like(activations), where=total != 0)
        weights = (share * gradients).sum(axis=(2, 3), keepdims=True)  # (T, K, 1, 1)
        return (weights * activations).sum(axis=1)
