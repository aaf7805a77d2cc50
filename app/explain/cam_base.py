"""What the class-activation-map family shares (after pytorch-grad-cam's base class).

One run of the explain graph gives the chosen layer's activations A and the gradients G of
the target logit with respect to them, (T, K, h, w). A subclass turns (A, G) into a map
(T, h, w); here the map goes through a ReLU and is upsampled to the input size with bilinear
interpolation (half-pixel centres, as torch's `align_corners=False`). Convention: ReLU first,
then upsampling, as Captum `LayerGradCam(relu_attributions=True)` followed by
`LayerAttribution.interpolate(..., "bilinear")`; maps are not min-max normalised (the
picture is).
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from app.explain.base import Cost, ExplainInput, Explanation, Method, MethodParams, Workload
from app.imaging.smoothing import resize_bilinear


class CAMMethod(Method):
    family = "cam"
    uses_layer = True

    def explain(self, given: ExplainInput, params: MethodParams) -> Explanation:
        activations, gradients = layer_activations_and_gradients(given)
        maps = np.maximum(self.layer_map(activations, gradients), 0.0)  # (T, h, w)
        height, width = given.nchw(given.image).shape[2:]
        return Explanation(resize_bilinear(maps, height, width))

    def cost(self, params: MethodParams, work: Workload) -> Cost:
        """One run per target of the explain graph whose backward pass stops at the layer."""
        return Cost(work.targets, work.targets)

    @abstractmethod
    def layer_map(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        """(T, K, h, w) activations and gradients -> (T, h, w) map before ReLU."""


def layer_activations_and_gradients(given: ExplainInput) -> tuple[np.ndarray, np.ndarray]:
    """The CAM layer's activations and target-logit gradients, (T, K, h, w) each. The backward
    pass stops at the layer (no input gradient), so this costs about one forward pass."""
    assert given.layer is not None
    result = given.clean_run(layers=(given.layer,), input_gradient=False)
    return result.activations[given.layer], result.gradients[given.layer]
