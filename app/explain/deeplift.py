"""DeepLIFT with the Rescale rule (Shrikumar et al. 2017), https://arxiv.org/abs/1704.02685."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from app.explain.base import Cost, ExplainInput, Workload, reference_input
from app.explain.gradient_base import Attribution, GradientParams
from app.explain.integrated_gradients import _given_baseline
from app.explain.propagation_base import PropagationMethod, propagate
from app.gradients.propagation import Propagation, PropagationRule


class DeepLIFTParams(GradientParams):
    baseline: Literal["zeros", "black", "blur", "given"] = Field(
        "zeros", description="zeros of the input tensor (Captum's default: the mean picture of a "
        "mean/std-normalised model), a black image, the blurred input, or the image sent as "
        "`baseline`"
    )  # fmt: skip
    blur_sigma: float = Field(4.0, gt=0, le=64, description="for baseline=blur, in pixels")
    reduce: Literal["max_abs", "sum", "abs_sum"] = "sum"


class DeepLIFT(PropagationMethod):
    """Each input's contribution to the target logit's difference from the baseline's:
    (x - x0) times multipliers that are the gradient through linear ops and, at every
    activation, (f(x) - f(x0)) / (x - x0) (the gradient where x and x0 nearly agree). MaxPool
    splits its difference between the input's and the baseline's maxima, as Captum's
    DeepLift. Contributions sum to the difference (summation-to-delta; `completeness_gap`).

    Runs the inputs and their baselines forwards as one batch (two rows per target), and the
    backward pass on the inputs' rows only (a multiplier is the same on both rows of a pair);
    models with an op that is neither linear nor a one-input activation (a product of two
    tensors, softmax inside) are refused (422)."""

    summary = "contribution of each pixel to the class score's change from a baseline"
    Params = DeepLIFTParams
    default_kind = Propagation.DEEPLIFT_RESCALE

    def attribute(self, given: ExplainInput, params: GradientParams) -> Attribution:
        assert isinstance(params, DeepLIFTParams)
        targets = len(given.targets)
        baseline = make_baseline(given, params)
        batch = np.concatenate(
            [np.repeat(given.image, targets, 0), np.repeat(baseline, targets, 0)]
        )
        contributions, logits = propagate(given, batch, PropagationRule(self.default_kind))
        rise = [logits[t, k] - logits[targets + t, k] for t, k in enumerate(given.targets)]
        ours = contributions[:targets]
        gaps = [float(ours[t].sum() - rise[t]) for t in range(targets)]
        return ours.astype(np.float32), {
            "completeness_gap": gaps,
            "logit_difference": [float(value) for value in rise],
        }

    def cost(self, params: GradientParams, work: Workload) -> Cost:
        """One run of the explain graph per target and one per its baseline (the backward
        pass of those runs covers the targets' rows only, where it can: a bound)."""
        return Cost(2 * work.targets, 2 * work.targets)


def make_baseline(given: ExplainInput, params: DeepLIFTParams) -> np.ndarray:
    """The baseline in the model's layout, like `given.image` (as Integrated Gradients')."""
    if params.baseline == "given":
        return _given_baseline(given)
    reference = reference_input(given, params.baseline, params.blur_sigma)  # (1, C, H, W)
    return given.model_layout(np.ascontiguousarray(reference, dtype=np.float32))
