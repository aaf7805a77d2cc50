"""Checking explain graphs numerically against the model's forward pass, before serving them.

Directional derivatives of the explain graph's gradients are compared with central
differences of the forward pass along random directions, at random inputs and random seeds
(weights on the logits), for each sample of a batch (a rule that mixes samples shows) and
for the input and every requested layer. The differences run on the frozen forward
(frozen.py: piecewise ops keep the base input's branch, so the step sees no kink), with a
Richardson step pair (h, 2h) that cancels the h^2 term of smooth ops (SiLU, GELU, softmax,
LayerNorm); the sums are taken in float64 from float32 logits.

The figure is, per sample and tensor, the root-mean-square disagreement over the directions
divided by the root-mean-square directional derivative (|grad| times the step scale): an
estimate of |grad_engine - grad_true| / |grad_true|. Together with the explain graph's
logits against the model's own, its largest value must stay within TOLERANCE.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.gradients.session import ExplainResult

TOLERANCE = 1e-3
SAMPLES, DIRECTIONS, STEP = 2, 2, 0.03
Explain = Callable[[np.ndarray, np.ndarray], ExplainResult]
Frozen = Callable[[np.ndarray, np.ndarray, Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class SelfCheck:
    """The outcome: the largest relative disagreement found, and where."""

    error: float
    worst: str  # e.g. "input gradient of sample 1 (graph 'full')"
    seconds: float
    tolerance: float = TOLERANCE

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)  # NaN fails

    def describe(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"self-check {verdict}: largest relative error {self.error:.1e} ({self.worst}; "
            f"tolerance {self.tolerance:.0e}), {self.seconds:.2f} s"
        )


@dataclass
class _Probe:
    """Where the differences are taken: inputs, seeds, and per tensor its directions."""

    image: np.ndarray  # (B, *input)
    seed: np.ndarray  # (B, K)
    directions: dict[str, np.ndarray]  # "" (the input) or a layer -> (B, D, *shape), scaled


def check_gradients(
    forward: Callable[[np.ndarray], np.ndarray],
    frozen: Frozen,
    explains: Mapping[str, Explain],
    input_shape: tuple[int, ...],
    seed: int = 0,
) -> SelfCheck:
    """Check every explain graph of `explains` (name -> run(image, seed)).

    `forward(image)` gives the model's logits; `frozen(image, base, deltas)` the frozen
    forward's, with `deltas` added to the named layers.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((SAMPLES, *input_shape)).astype(np.float32)
    logits = np.asarray(forward(image), dtype=np.float64)
    weights = rng.standard_normal(logits.shape).astype(np.float32)
    results = {name: run(image, weights) for name, run in explains.items()}
    errors = [
        (_relative(result.logits, logits), f"logits (graph '{name}')")
        for name, result in results.items()
    ]
    probe = _Probe(image, weights, _directions(rng, image, results))
    slopes = _central_differences(frozen, probe)
    for name, result in results.items():
        for tensor, gradient in _gradients(result).items():
            errors += _disagreements(
                slopes[tensor], gradient, probe.directions[tensor], tensor, name
            )
    error, worst = max(errors, key=lambda item: (np.nan_to_num(item[0], nan=np.inf), item[1]))
    return SelfCheck(float(error), worst, time.perf_counter() - started)


def _gradients(result: ExplainResult) -> dict[str, np.ndarray]:
    found = dict(result.gradients)
    if result.input_grad is not None:
        found[""] = result.input_grad
    return found


def _directions(rng, image: np.ndarray, results) -> dict[str, np.ndarray]:
    """Gaussian directions per tensor, scaled by each sample's RMS value."""
    values = {"": image}
    for result in results.values():
        values.update(result.activations)
    directions = {}
    for tensor, value in values.items():
        value = np.asarray(value, dtype=np.float64)
        scale = np.sqrt((value.reshape(len(value), -1) ** 2).mean(axis=1)) + 1e-12  # (B,)
        noise = rng.standard_normal((len(value), DIRECTIONS, *value.shape[1:]))
        directions[tensor] = noise * scale.reshape(-1, *[1] * (noise.ndim - 1))
    return directions


def _central_differences(frozen: Frozen, probe: _Probe) -> dict[str, np.ndarray]:
    """Richardson-extrapolated d/dt seed . logits(tensor + t * direction), (B, D) per tensor."""
    samples, tensors = len(probe.image), list(probe.directions)
    rows = len(tensors) * DIRECTIONS * samples  # row = (tensor, direction, sample)
    base = np.tile(probe.image, (len(tensors) * DIRECTIONS, *[1] * (probe.image.ndim - 1)))
    image_base = probe.image  # the frozen forward's base: one row per sample
    weights = np.tile(probe.seed.astype(np.float64), (len(tensors) * DIRECTIONS, 1))

    def objective(step: float) -> np.ndarray:
        image, deltas = base.copy(), {}
        for index, tensor in enumerate(tensors):
            moved = slice(index * DIRECTIONS * samples, (index + 1) * DIRECTIONS * samples)
            along = np.swapaxes(probe.directions[tensor], 0, 1).reshape(
                -1, *probe.directions[tensor].shape[2:]
            )
            if tensor == "":
                image[moved] += (step * along).astype(np.float32)
            else:
                delta = np.zeros((rows, *along.shape[1:]), dtype=np.float32)
                delta[moved] = step * along
                deltas[tensor] = delta
        logits = np.asarray(frozen(image, image_base, deltas), dtype=np.float64)
        return (logits * weights).sum(axis=1)  # (rows,)

    def slope(step: float) -> np.ndarray:
        return (objective(step) - objective(-step)) / (2 * step)

    extrapolated = (4 * slope(STEP) - slope(2 * STEP)) / 3  # (rows,)
    per_tensor = extrapolated.reshape(len(tensors), DIRECTIONS, samples)
    return {tensor: per_tensor[i].T for i, tensor in enumerate(tensors)}  # (B, D)


def _disagreements(
    slopes, gradient, directions, tensor: str, graph: str
) -> list[tuple[float, str]]:
    """Per sample: RMS(slope - <grad, direction>) / RMS over directions of what it should be."""
    gradient = np.asarray(gradient, dtype=np.float64)
    samples = len(gradient)
    flat_grad = gradient.reshape(samples, 1, -1)
    flat_dirs = directions.reshape(samples, DIRECTIONS, -1)
    predicted = (flat_grad * flat_dirs).sum(axis=2)  # (B, D)
    expected = np.sqrt((flat_grad**2).sum(axis=2)[:, 0] * (flat_dirs**2).mean(axis=(1, 2)))
    found = []
    what = "input gradient" if tensor == "" else f"gradient of '{tensor}'"
    for b in range(samples):
        gap = float(np.sqrt(((slopes[b] - predicted[b]) ** 2).mean()))
        scale = float(expected[b])
        error = gap / scale if scale > 0 else (0.0 if gap == 0 else np.inf)
        found.append((error, f"{what} of sample {b} (graph '{graph}')"))
    return found


def _relative(ours: np.ndarray, reference: np.ndarray) -> float:
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-12)
    return float(np.abs(np.asarray(ours, dtype=np.float64) - reference).max(initial=0.0)) / scale
