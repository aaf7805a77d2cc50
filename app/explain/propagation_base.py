"""What LRP and DeepLIFT share: one run of the explain graph under a propagation rule."""

from __future__ import annotations

import numpy as np

from app.explain.base import ExplainInput, MethodParams
from app.explain.gradient_base import GradientMethod
from app.gradients.propagation import Propagation, PropagationRule
from app.runtime.model import RunningModel


class PropagationMethod(GradientMethod):
    """A gradient-family method whose backward pass is a propagation rule of the engine; it
    is offered only on models whose every op has a rule of that kind."""

    default_kind: Propagation = Propagation.LRP_EPSILON

    def supports(self, model: RunningModel) -> bool:
        return super().supports(model) and model.engine.propagation_error(self.default_kind) is None

    def kind(self, params: MethodParams) -> Propagation:
        """The rule `params` ask for."""
        return self.default_kind


def propagate(
    given: ExplainInput, batch: np.ndarray, rule: PropagationRule
) -> tuple[np.ndarray, np.ndarray]:
    """Relevances of the input (rows, C, H, W) and logits (rows, K) of `batch`, one seed per
    target, repeated over the batch's rows (T * repeats rows)."""
    repeats = len(batch) // len(given.targets)
    seeds = np.concatenate([given.seeds()] * repeats)
    result = given.gradients(batch, seeds, propagation=rule)
    return given.nchw(result.required_input_grad()), result.logits
