"""Max-sensitivity (Yeh et al. 2019, "On the (in)fidelity and sensitivity of explanations",
https://arxiv.org/abs/1901.09392): the largest change of the map when the input moves a
little, estimated by Monte Carlo: max over noisy copies x + d, d uniform in [-r, r] on every
input value, of ||map(x + d) - map(x)|| / ||map(x)|| (Frobenius norms).

The division by ||map(x)|| is Captum's `sensitivity_max` (and Quantus's `MaxSensitivity`
default), so that maps of any scale compare. `r` is a fraction of the pixel range (0 black,
1 white), turned into input units per channel. The map of a noisy copy explains the same
class as the map of the image. The noise depends on the image only: every method sees the
same copies. Lower is better; a map that is zero everywhere has no value (None)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from app.evaluate.cases import ImageCase
from app.explain.base import ExplainInput


def input_noise(
    rng: np.random.Generator, case: ImageCase, samples: int, radius: float
) -> np.ndarray:
    """`samples` perturbations (N, C, H, W) in input units: uniform in [-r, r] pixels."""
    preprocess = case.given.model.preprocessing
    scale = preprocess.input_value(1.0) - preprocess.input_value(0.0)  # (C, 1, 1)
    shape = (samples, *case.nchw().shape[1:])
    return (rng.uniform(-radius, radius, shape) * scale).astype(np.float32)


def max_sensitivity(
    explain: Callable[[ExplainInput], np.ndarray],
    given: ExplainInput,
    heatmap: np.ndarray,
    noise: np.ndarray,
) -> float | None:
    """max_n ||explain(x + noise[n]) - heatmap|| / ||heatmap||; None when the map is 0."""
    norm = float(np.linalg.norm(heatmap))
    if norm == 0:
        return None
    changes = []
    for delta in noise:  # (C, H, W)
        moved = given.image + given.model_layout(delta[None])
        noisy = explain(dataclasses.replace(given, image=moved.astype(np.float32)))
        changes.append(float(np.linalg.norm(noisy - heatmap)) / norm)
    return max(changes)
