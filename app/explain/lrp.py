"""Layer-wise Relevance Propagation (Bach et al. 2015), https://doi.org/10.1371/journal.pone.0130140,
with the CNN composite of Montavon et al. 2019, https://doi.org/10.1007/978-3-030-28954-6_10."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from app.explain.base import ExplainInput, MethodParams
from app.explain.gradient_base import Attribution, GradientParams
from app.explain.propagation_base import PropagationMethod, propagate
from app.gradients.propagation import Propagation, PropagationRule

COMPOSITES = {"epsilon": Propagation.LRP_EPSILON, "epsilon_gamma_box": Propagation.LRP_COMPOSITE}


class LRPParams(GradientParams):
    rules: Literal["epsilon_gamma_box", "epsilon"] = Field(
        "epsilon_gamma_box", description="epsilon_gamma_box: z-box on the first conv, gamma on "
        "the other convs, epsilon on dense layers (Zennit's EpsilonGammaBox); epsilon: the "
        "epsilon rule on every layer (Captum's LRP default)"
    )  # fmt: skip
    epsilon: float = Field(1e-6, gt=0, le=100, description="the epsilon rule's stabiliser")
    gamma: float = Field(
        0.25, ge=0, le=100, description="the gamma rule's boost of positive weights"
    )
    reduce: Literal["max_abs", "sum", "abs_sum"] = "sum"


class LRP(PropagationMethod):
    """The target logit's relevance, passed from layer to layer down to the pixels; the
    relevances sum to the logit, less what biases and stabilisers absorb (reported as
    `relevance_sum` beside `logit`).

    Relevance at a tensor t is t * g, g a modified gradient (the engine's propagation rules):
    convolutions and dense layers use the epsilon rule, or under `epsilon_gamma_box` the
    z-box rule on a first convolution reading the image (its bounds: black and white through
    the model's preprocessing), the gamma rule on the other convolutions (bias boosted too, as
    Zennit), the epsilon rule on Gemm/MatMul; sums (residual Adds) and average pools split
    relevance in proportion to each input's contribution (Zennit's Norm; Captum gives the
    whole to each branch, Captum #546); ReLU and clipping (ReLU6) pass relevance unchanged;
    MaxPool sends it to the maximum. BatchNorm is folded into the conv by the exporter; one
    left in the graph is the linear layer it is in inference. Models with any other op on the
    path are refused (422)."""

    summary = "relevance of the class score, layer by layer down to the pixels"
    Params = LRPParams
    default_kind = Propagation.LRP_COMPOSITE

    def kind(self, params: MethodParams) -> Propagation:
        assert isinstance(params, LRPParams)
        return COMPOSITES[params.rules]

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        assert isinstance(params, LRPParams)
        low, high = input_bounds(given)
        rule = PropagationRule(self.kind(params), params.epsilon, params.gamma, low, high)
        batch = np.repeat(given.image, len(given.targets), axis=0)
        relevance, logits = propagate(given, batch, rule)
        scores = [float(logits[row, target]) for row, target in enumerate(given.targets)]
        sums = [float(value) for value in relevance.reshape(len(relevance), -1).sum(axis=1)]
        return relevance.astype(np.float32), {"relevance_sum": sums, "logit": scores}


def input_bounds(given: ExplainInput) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest input values (1, C, H, W) in the model's layout: black and white
    through the model's preprocessing, per channel."""
    black, white = given.filled(0.0)[:1], given.filled(1.0)[:1]
    return np.minimum(black, white), np.maximum(black, white)
