"""Ablation-CAM (Desai & Ramaswamy 2020),
https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html."""

from __future__ import annotations

import numpy as np

from app.explain.base import Cost, ExplainInput, Explanation, Method, MethodParams, Workload
from app.imaging.smoothing import resize_bilinear

ABLATION_CHUNK = 128  # ablated copies of the layer per run of the network from the layer on


class AblationCAM(Method):
    """Channels weighted by how much the target's score drops when each one is zeroed:
    ReLU(sum_k w_k A_k), w_k = (y - y_k) / y, with y the target's raw output and y_k the
    output with channel k of the layer set to 0 (eq. 3 of the paper). No gradients.

    One forward pass gives the activations; then the network runs from the layer on
    (`RunningModel.tails`, a graph cut at the layer) on K copies of them, each with one
    channel zeroed, batched: K + 1 forward passes against the budget, though each of the K
    runs only the layers after the CAM layer. The same runs serve every target.

    Conventions: a target whose output y is 0 gets weight 0 everywhere. pytorch-grad-cam's
    `AblationCAM` zeroes a channel only when the layer's smallest activation is 0 (as after
    a ReLU) and otherwise sets it to that minimum - 1e7; here it is always zeroed, as in the
    paper. ReLU, then bilinear upsampling, no min-max normalisation, as the other CAMs here.
    """

    family = "cam"
    needs_gradients = False
    uses_layer = True
    summary = "layer channels weighted by the score drop when each one is zeroed"
    budget_advice = "Choose a layer with fewer channels."

    def explain(self, given: ExplainInput, params: MethodParams) -> Explanation:
        assert given.layer is not None
        self.require_budget(given, params)
        upstream = given.model.tails.upstream(given.layer)
        logits, taps = given.tapped(given.image, (given.layer, *upstream))
        activations = taps[given.layer][0]  # (K, h, w)
        context = {name: taps[name] for name in upstream}
        ablated = ablated_scores(given, activations, context)[:, given.targets]  # (K, T)
        score = logits[0, given.targets].astype(np.float64)  # (T,)
        safe = np.where(score != 0, score, 1.0)
        weights = np.where(score != 0, (score - ablated) / safe, 0.0)  # (K, T)
        maps = np.maximum(np.einsum("kt,khw->thw", weights, activations), 0.0)  # (T, h, w)
        height, width = given.nchw(given.image).shape[2:]
        return Explanation(resize_bilinear(maps, height, width))

    def cost(self, params: MethodParams, work: Workload) -> Cost:
        """One forward pass, then one run from the layer on per channel."""
        return Cost(work.layer_channels + 1)


def ablated_scores(
    given: ExplainInput, activations: np.ndarray, upstream: dict[str, np.ndarray]
) -> np.ndarray:
    """Raw outputs (K, classes) with each channel k of `activations` (K, h, w) zeroed."""
    assert given.layer is not None
    channels = len(activations)
    runs = []
    for start in range(0, channels, ABLATION_CHUNK):
        part = np.arange(start, min(start + ABLATION_CHUNK, channels))
        copies = np.repeat(activations[None], len(part), axis=0)  # (n, K, h, w)
        copies[np.arange(len(part)), part] = 0.0
        runs.append(given.model.tails.run(given.layer, copies, upstream))
    return np.concatenate(runs).astype(np.float64)
