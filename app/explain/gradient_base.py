"""What the gradient family shares: one batched run of the explain graph per call."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from app.explain.base import ExplainInput, Explanation, Method, MethodParams, reduce_channels
from app.gradients import ReluRule

ChannelReduction = Literal["max_abs", "sum", "abs_sum"]
Attribution = tuple[np.ndarray, dict[str, Any]]


class GradientParams(MethodParams):
    reduce: ChannelReduction = Field(
        "max_abs", description="how channels become one map: max |a| (keras-vis), sum, |a| sum"
    )


def input_gradients(given: ExplainInput, relu_rule: ReluRule = ReluRule.GRADIENT) -> np.ndarray:
    """d(target logit)/d(input) for every target, as (T, C, H, W)."""
    batch = np.repeat(given.image, len(given.targets), axis=0)
    result = given.engine.run(batch, given.seeds(), int(relu_rule))
    return given.nchw(result.required_input_grad())


class GradientMethod(Method):
    """Attributions from one backward pass with a ReLU rule; subclasses choose the rule."""

    family = "gradient"
    Params: ClassVar[type[GradientParams]] = GradientParams
    relu_rule: ReluRule = ReluRule.GRADIENT

    def explain(self, given: ExplainInput, params: GradientParams) -> Explanation:
        attributions, extras = self.attribute(given, params)
        heatmaps = reduce_channels(attributions, params.reduce)
        return Explanation(heatmaps, attributions, params.reduce == "sum", extras)

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        """Per-channel attributions (T, C, H, W) and any figures worth reporting."""
        return input_gradients(given, self.relu_rule), {}


def batched_input_gradients(
    given: ExplainInput, inputs: np.ndarray, repeats: int, chunk: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Input gradients (T * repeats, C, H, W) and logits (T * repeats, K) of `inputs`, whose
    rows hold each target's `repeats` copies together; run in chunks of at most `chunk`."""
    seeds = given.seeds(repeats)
    runs = [
        given.engine.run(inputs[start : start + chunk], seeds[start : start + chunk])
        for start in range(0, len(inputs), chunk)
    ]
    gradients = np.concatenate([run.required_input_grad() for run in runs])
    return given.nchw(gradients), np.concatenate([run.logits for run in runs])
