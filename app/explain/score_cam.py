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
    layer's resolution and the map then upsampled bilinearly. One forward run per channel.
    """

    family = "perturbation"
    needs_gradients = False
    uses_layer = True
    summary = "layer channels weighted by the target's probability with each one as a mask"
    budget_advice = "Choose a layer with fewer channels."

    def explain(self, given: ExplainInput, params: MethodParams) -> Explanation:
        assert given.layer is not None
        _, taps = given.tapped(given.image, (given.layer,))
        activations = taps[given.layer][0].astype(np.float64)  # (K, h, w)
        given.budget.require(
            len(activations) + 1, "Score-CAM", "Choose a layer with fewer channels."
        )
        weights = masked_probabilities(given, activations)[:, given.targets]  # (K, T)
        maps = np.maximum(np.einsum("kt,khw->thw", weights, activations), 0.0)  # (T, h, w)
        height, width = given.nchw(given.image).shape[2:]
        return Explanation(resize_bilinear(maps, height, width))

    def cost(self, params: MethodParams, work: Workload) -> Cost:
        """One forward pass for the activations, one per channel of the layer."""
        return Cost(work.layer_channels + 1)


def masked_probabilities(given: ExplainInput, activations: np.ndarray) -> np.ndarray:
    """P(class | x * M_k), (K, classes), for the mask of every channel k, in batched runs."""
    image = given.nchw(given.image)  # (1, C, H, W)
    height, width = image.shape[2:]
    runs = []
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
