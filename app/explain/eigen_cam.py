"""Eigen-CAM (Muhammad & Yeasin 2020), https://arxiv.org/abs/2008.00299."""

from __future__ import annotations

import numpy as np

from app.explain.base import Cost, ExplainInput, Explanation, Method, MethodParams, Workload
from app.imaging.smoothing import resize_bilinear


class EigenCAM(Method):
    """The layer's activations projected on their first principal component: the positions,
    as rows of (h w, K), centred per channel, projected on the first right singular vector.
    No gradients and no class: every target gets the same map, so it works on models whose
    gradients the engine cannot give. One forward pass.

    Conventions: the map goes through a ReLU and is upsampled bilinearly, as the other CAMs
    here, and is not min-max normalised. A singular vector's sign is arbitrary; here it is
    the one whose entries sum to 0 or more, so the map grows with the layer's total
    activation (pytorch-grad-cam's `EigenCAM` keeps the sign LAPACK returns). `extras`
    gives the share of the variance the component explains.
    """

    family = "cam"
    needs_gradients = False
    uses_layer = True
    summary = "first principal component of the layer's activations (class-agnostic)"

    def explain(self, given: ExplainInput, params: MethodParams) -> Explanation:
        assert given.layer is not None
        self.require_budget(given, params)
        _, taps = given.tapped(given.image, (given.layer,))
        projection, explained = first_component(taps[given.layer][0])  # (h, w)
        height, width = given.nchw(given.image).shape[2:]
        heatmap = resize_bilinear(np.maximum(projection, 0.0), height, width)  # (H, W)
        heatmaps = np.repeat(heatmap[None], len(given.targets), axis=0)
        return Explanation(heatmaps, extras={"explained_variance": explained})

    def cost(self, params: MethodParams, work: Workload) -> Cost:
        """One forward pass, whatever the number of targets."""
        return Cost(1)


def first_component(activations: np.ndarray) -> tuple[np.ndarray, float]:
    """(K, h, w) activations -> their projection (h, w) on the first principal component,
    signed to grow with the total activation, and the share of variance it explains."""
    positions = activations.reshape(len(activations), -1).T.astype(np.float64)  # (h w, K)
    centred = positions - positions.mean(axis=0)
    _, singular, right = np.linalg.svd(centred, full_matrices=False)
    if not singular.any():
        return np.zeros(activations.shape[1:]), 0.0
    direction = right[0] if right[0].sum() >= 0 else -right[0]  # (K,)
    explained = float(singular[0] ** 2 / (singular**2).sum())
    return (centred @ direction).reshape(activations.shape[1:]), explained
