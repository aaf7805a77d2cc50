"""What the gradient family shares: one batched run of the explain graph per call."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar, Literal

import numpy as np
import onnx
from pydantic import Field

from app.explain.base import (
    Cost,
    ExplainInput,
    Explanation,
    Method,
    MethodParams,
    Workload,
    reduce_channels,
)
from app.gradients import ReluRule
from app.runtime.explain_batching import rows_per_run

ChannelReduction = Literal["max_abs", "sum", "abs_sum"]
Attribution = tuple[np.ndarray, dict[str, Any]]
PLAIN_GRADIENT = ("Clip", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "HardSigmoid",
                  "HardSwish", "ThresholdedRelu")  # activations no ReLU rule changes  # fmt: skip


class GradientParams(MethodParams):
    reduce: ChannelReduction = Field(
        "max_abs", description="how channels become one map: max |a| (keras-vis), sum, |a| sum"
    )


def input_gradients(given: ExplainInput, relu_rule: ReluRule = ReluRule.GRADIENT) -> np.ndarray:
    """d(target logit)/d(input) for every target, as (T, C, H, W)."""
    return given.nchw(given.clean_run(int(relu_rule)).required_input_grad())


def relu_rule_reach(model: onnx.ModelProto) -> dict[str, Any]:
    """Which nodes a ReLU rule (guided backprop, deconvnet) changes: only Relu, as Captum's
    GuidedBackprop and Deconvolution override only nn.ReLU; ReLU6 (Clip) and the other
    piecewise activations keep their gradient. So on a model without a Relu (EfficientNet-
    Lite0 has ReLU6 only) the map is the saliency map, and the response says so."""
    ops = Counter(node.op_type for node in model.graph.node)
    return {
        "relus_with_the_rule": ops["Relu"],
        "activations_with_their_gradient": {op: ops[op] for op in PLAIN_GRADIENT if ops[op]},
        "same_as_saliency": ops["Relu"] == 0,
    }


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
        """Per-channel attributions (T, C, H, W) and any figures worth reporting (under a
        ReLU rule, which nodes it reaches: `relu_rule_reach`)."""
        ruled = self.relu_rule != ReluRule.GRADIENT
        extras = relu_rule_reach(given.model.graph) if ruled else {}
        return input_gradients(given, self.relu_rule), extras

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """One run of the explain graph per target."""
        return Cost(work.targets, work.targets)


def weighted_input_gradients(
    given: ExplainInput, inputs: np.ndarray, weights: np.ndarray, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each target, sum_s weights[s] * d(target logit)/d(inputs[s]), as (T, C, H, W), and
    the logits (T, S, K). `weights` are (S,) numbers or (S, C, H, W) arrays (multiplied
    element-wise). `inputs` (S, ...) are shared by the targets and run in chunks of `chunk`
    rows (by default as many as run fastest for the input's size: `rows_per_run`), so memory
    holds one chunk of activations and gradients, not T * S."""
    chunk = chunk or rows_per_run(inputs[0].size)
    sums, logits = [], []
    for target in given.targets:
        total = np.zeros(given.nchw(inputs[:1]).shape[1:], dtype=np.float64)  # (C, H, W)
        rows = []
        for start in range(0, len(inputs), chunk):
            part = inputs[start : start + chunk]
            seeds = np.zeros((len(part), given.classes), dtype=np.float32)
            seeds[:, target] = 1.0
            result = given.gradients(part, seeds)
            gradients = given.nchw(result.required_input_grad())  # (s, C, H, W)
            scale = weights[start : start + chunk]
            scale = scale.reshape(len(scale), 1, 1, 1) if scale.ndim == 1 else scale
            total += (scale * gradients).sum(axis=0)
            rows.append(result.logits)
        sums.append(total)
        logits.append(np.concatenate(rows))
    return np.stack(sums).astype(np.float32), np.stack(logits)
