"""Score-CAM (Wang et al. 2020), https://arxiv.org/abs/1910.01279."""

from __future__ import annotations

import numpy as np

from app.explain.base import (
    Cost,
    ExplainInput,
    Explanation,
    Method,
    MethodParams,
    Workload,
    chunks,
)
from app.imaging.smoothing import resize_bilinear


class ScoreCAM(Method):
    """Channels weighted by the target's softmax probability when the input is seen through
    each channel as a mask: ReLU(sum_k P(target | x * M_k) A_k), no gradients.

    M_k is channel k of the CAM layer, upsampled bilinearly to the input size and min-max
    normalised to [0, 1] (a constant channel gives an all-zero mask). The mask multiplies
    the input tensor, so hidden pixels become zeros of the normalised input. Weights are the
    plain probabilities, not the paper's increase over a baseline input: the convention of
    pytorch-grad-cam's `ScoreCAM`. As in the other CAMs here, the ReLU is applied at the
    layer's resolution and the map then upsampled bilinearly. One forward run per channel
    whose activations vary over the map; channels that are zero everywhere are skipped and
    constant ones share a run (the same map, fewer runs).
    """

    family = "perturbation"
    needs_gradients = False
    uses_layer = True
    summary = "layer channels weighted by the target's probability with each one as a mask"
    budget_advice = "Choose a layer with fewer channels."
    cost_is_exact = False  # channels that are zero everywhere or constant need no run of their own

    def explain(self, given: ExplainInput, params: MethodParams) -> Explanation:
        assert given.layer is not None
        _, taps = given.tapped(given.image, (given.layer,))
        activations = taps[given.layer][0].astype(np.float64)  # (K, h, w)
        varying, flat = channel_kinds(activations)
        runs = len(varying) + (1 if len(flat) else 0)
        elements = runs * (given.elements + given.pixels)
        given.budget.require(runs + 1, "Score-CAM", self.budget_advice, elements)
        weights = np.zeros((len(activations), len(given.targets)))  # (K, T); 0 for dead ones
        weights[varying] = masked_probabilities(given, activations[varying])[:, given.targets]
        if len(flat):  # a constant channel's mask is all zeros: the input becomes zeros
            hidden = np.zeros_like(given.nchw(given.image))
            weights[flat] = given.scores(given.model_layout(hidden))[0, given.targets]
        maps = np.maximum(np.einsum("kt,khw->thw", weights, activations), 0.0)  # (T, h, w)
        height, width = given.nchw(given.image).shape[2:]
        extras = {"forward_passes": runs + 1, "channels_run": len(varying)}
        return Explanation(resize_bilinear(maps, height, width), extras=extras)

    def cost(self, params: MethodParams, work: Workload) -> Cost:
        """At most one forward pass for the activations and one per channel of the layer
        (fewer where channels are zero everywhere or constant)."""
        return Cost(work.layer_channels + 1)


def channel_kinds(activations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the channels (K, h, w) that vary, and of the constant non-zero ones.

    Channels that are zero everywhere (most of a ReLU layer's, on a given image: 834 of
    EfficientNet-Lite0's 1280 on the cat photo) add nothing to the map and need no run; the
    constant ones share one run, as their masks are all zeros."""
    high, low = activations.max(axis=(1, 2)), activations.min(axis=(1, 2))  # (K,)
    return np.flatnonzero(high > low), np.flatnonzero((high == low) & (high != 0))


def masked_probabilities(given: ExplainInput, activations: np.ndarray) -> np.ndarray:
    """P(class | x * M_k), (K, classes), for the mask of every channel k, in batched runs."""
    image = given.nchw(given.image)  # (1, C, H, W)
    height, width = image.shape[2:]
    runs = [np.zeros((0, given.classes))]
    for part in chunks(len(activations)):
        masks = channel_masks(activations[part], height, width)  # (n, H, W)
        runs.append(given.scores(given.model_layout(image * masks[:, None])))
    return np.concatenate(runs)


def channel_masks(activations: np.ndarray, height: int, width: int) -> np.ndarray:
    """(n, h, w) activations -> (n, H, W) masks in [0, 1], float32."""
    masks = resize_bilinear(activations, height, width).astype(np.float64)
    low = masks.min(axis=(1, 2), keepdims=True)
    span = masks.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (masks - low) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)
