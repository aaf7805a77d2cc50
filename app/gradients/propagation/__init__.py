"""Propagation rules: LRP and DeepLIFT as variants of the backward pass, chosen at run time.

The `propagation` input of an explain graph built with rules (see Propagation) picks one of
several backward passes held in If branches: the gradient (with the `relu_rule`), LRP with
the epsilon rule on every layer, LRP's CNN composite, or DeepLIFT's Rescale rule. Each
variant is a table of per-op rules (rules.py); an op missing from a variant's table makes that
variant refused for the model (ExplainGraph.refusals), while the gradient keeps working.

Under LRP and DeepLIFT, `input_grad` and `grad:L` hold relevances (contributions), not
gradients: they sum to the explained logit (LRP, up to what biases and stabilisers absorb) or
to its difference from the baseline's (DeepLIFT).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

PROPAGATION, EPSILON, GAMMA, LOW, HIGH = (
    "propagation",
    "lrp_epsilon",
    "lrp_gamma",
    "lrp_low",
    "lrp_high",
)
STABILIZER = 1e-6  # added to every denominator except the epsilon rule's (Zennit's default)
DEEPLIFT_EPSILON = 1e-10  # |x - x0| below which DeepLIFT uses the gradient (Captum's)


class Propagation(IntEnum):
    """Value of the `propagation` input: which backward pass the explain graph runs."""

    GRADIENT = 0
    LRP_EPSILON = 1  # the epsilon rule on every layer
    LRP_COMPOSITE = 2  # z-box first conv, gamma on the other convs, epsilon on dense layers
    DEEPLIFT_RESCALE = 3  # the batch holds the inputs, then as many baselines


@dataclass(frozen=True)
class PropagationRule:
    """What one run of the explain graph propagates: the kind and its parameters. `low` and
    `high` are the box rule's input bounds, shaped (1, *input dims) (LRP_COMPOSITE only)."""

    kind: Propagation = Propagation.GRADIENT
    epsilon: float = 1e-6
    gamma: float = 0.25
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def feeds(self, input_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """The explain graph's propagation inputs for an input batch of `input_shape`."""
        bounds_shape = (1, *input_shape[1:])
        low = np.zeros(bounds_shape, np.float32) if self.low is None else self.low
        high = np.zeros(bounds_shape, np.float32) if self.high is None else self.high
        return {
            PROPAGATION: np.asarray(int(self.kind), dtype=np.int64),
            EPSILON: np.asarray(self.epsilon, dtype=np.float32),
            GAMMA: np.asarray(self.gamma, dtype=np.float32),
            LOW: np.ascontiguousarray(np.broadcast_to(low, bounds_shape), dtype=np.float32),
            HIGH: np.ascontiguousarray(np.broadcast_to(high, bounds_shape), dtype=np.float32),
        }
