"""Checking explain graphs numerically against the model's forward pass, before serving them.

At random inputs and random weights on the logits (`seed`), for each sample of a batch (a
rule that mixes samples shows), the directional derivatives of the explain graph's input
gradient along random directions are compared with central differences of the forward pass.
The differences run on the frozen forward (frozen.py: the piecewise ops keep the base input's
branch, so no step crosses a kink), at a ladder of steps with Richardson extrapolation (which
cancels the h^2 term of smooth ops: SiLU, GELU, softmax, LayerNorm). Per sample, the rung
whose estimate agrees best with the next one is used, and their disagreement is the check's
resolution there. Sums are float64 from float32 logits.

The figure is, per sample, the root-mean-square disagreement divided by the root-mean-square
directional derivative expected (|grad| times the step's scale): an estimate of
|grad_engine - grad_true| / |grad_true|. It must be within TOLERANCE, or, for a model whose
logits barely move with its input (float32 rounding then limits what differences can see),
within RESOLVED_BY times the resolution; a resolution worse than COARSEST means the check
cannot see enough and fails. Every other graph (the CAM graph, whose backward pass stops at a
layer) must give the first graph's layer activations and gradients, within CONSISTENCY.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.gradients.session import ExplainResult

TOLERANCE, RESOLVED_BY, COARSEST, CONSISTENCY = 1e-3, 3.0, 3e-2, 1e-4
SAMPLES, DIRECTIONS = 2, 2
STEPS = (0.005, 0.01, 0.02, 0.04, 0.08)  # relative to each sample's RMS value
Explain = Callable[[np.ndarray, np.ndarray], ExplainResult]
Frozen = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SelfCheck:
    """The outcome: the largest relative disagreement found and where, and the resolution
    (the differences' own uncertainty, relative) where it was found."""

    error: float
    worst: str  # e.g. "input gradient of sample 1 (graph 'full')"
    seconds: float
    resolution: float = 0.0
    passed: bool = False
    tolerance: float = TOLERANCE

    def describe(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"self-check {verdict}: largest relative error {self.error:.1e} ({self.worst}; "
            f"resolution {self.resolution:.0e}, tolerance {self.tolerance:.0e}), "
            f"{self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class _Finding:
    error: float
    resolution: float
    where: str
    allowed: float  # the largest error this finding may have and pass
    needs_resolution: float = float("inf")  # the largest resolution it may have and pass

    @property
    def ok(self) -> bool:
        return bool(self.error <= self.allowed and self.resolution <= self.needs_resolution)


def check_gradients(
    forward: Callable[[np.ndarray], np.ndarray],
    frozen: Frozen,
    explains: Mapping[str, Explain],
    input_shape: tuple[int, ...],
    seed: int = 0,
) -> SelfCheck:
    """Check the explain graphs `explains` (name -> run(image, seed)); the first must give
    the input gradient. `forward(image)` gives the model's logits, `frozen(image, base)` the frozen
    forward's."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((SAMPLES, *input_shape)).astype(np.float32)
    logits = np.asarray(forward(image), dtype=np.float64)
    weights = rng.standard_normal(logits.shape).astype(np.float32)
    results = {name: run(image, weights) for name, run in explains.items()}
    first_name, first = next(iter(results.items()))
    findings = [_Finding(_relative(r.logits, logits), 0.0, f"logits (graph '{name}')", CONSISTENCY)
                for name, r in results.items()]  # fmt: skip
    findings += _consistency(first, results)
    gradient = np.asarray(first.required_input_grad(), dtype=np.float64)
    directions = _directions(rng, image)
    slopes = _slopes(frozen, image, directions, weights)
    findings += _agreement(slopes, gradient, directions, first_name)
    worst = max(findings, key=lambda f: (not f.ok, f.error / max(f.allowed, 1e-30)))
    return SelfCheck(
        float(worst.error), worst.where, time.perf_counter() - started, float(worst.resolution),
        all(f.ok for f in findings),
    )  # fmt: skip


def _consistency(first: ExplainResult, results: Mapping[str, ExplainResult]) -> list[_Finding]:
    """Every other graph's layer activations and gradients equal those of the first graph."""
    found = []
    for name, result in list(results.items())[1:]:
        for kind, theirs, ours in (("activation", result.activations, first.activations),
                                   ("gradient", result.gradients, first.gradients)):  # fmt: skip
            for layer in theirs.keys() & ours.keys():
                where = f"{kind} of '{layer}' in graph '{name}' against the first graph"
                error = _relative(theirs[layer], ours[layer])
                found.append(_Finding(error, 0.0, where, CONSISTENCY))
    return found


def _directions(rng, image: np.ndarray) -> np.ndarray:
    """(D, B, *input) Gaussian directions, each with the RMS of its sample's input."""
    samples = len(image)
    scale = np.sqrt((image.reshape(samples, -1).astype(np.float64) ** 2).mean(axis=1))  # (B,)
    random = rng.standard_normal((DIRECTIONS, *image.shape))
    return random * scale.reshape(1, -1, *[1] * (image.ndim - 1))


def _slopes(frozen: Frozen, image, directions: np.ndarray, weights) -> np.ndarray:
    """(len(STEPS), D, B): central differences of seed . logits along each direction."""
    count, samples = directions.shape[0], directions.shape[1]
    along = directions.reshape(count * samples, *image.shape[1:])  # row = d * B + b
    rows = np.tile(image, (count, *[1] * (image.ndim - 1))).astype(np.float64)
    points = [rows + sign * step * along for step in STEPS for sign in (1, -1)]
    stacked = np.concatenate(points).astype(np.float32)  # row r keeps the branches of r % B
    logits = np.asarray(frozen(stacked, image), dtype=np.float64)
    objective = (logits * np.tile(weights.astype(np.float64), (2 * len(STEPS) * count, 1))).sum(1)
    objective = objective.reshape(len(STEPS), 2, count, samples)
    return (objective[:, 0] - objective[:, 1]) / (2 * np.asarray(STEPS).reshape(-1, 1, 1))


def _agreement(slopes, gradient, directions, graph: str) -> list[_Finding]:
    """Per sample: the best-resolved Richardson estimate against the directional derivative."""
    samples = len(gradient)
    flat_grad = gradient.reshape(1, samples, -1)
    flat_dirs = directions.reshape(directions.shape[0], samples, -1)
    predicted = (flat_grad * flat_dirs).sum(axis=2)  # (D, B)
    richardson = (4 * slopes[:-1] - slopes[1:]) / 3  # (rungs, D, B)
    expected = np.sqrt((flat_grad**2).sum(axis=2)[0] * (flat_dirs**2).mean(axis=(0, 2)))  # (B,)
    found = []
    for b in range(samples):
        error, resolution = _best_estimate(richardson[:, :, b], predicted[:, b], expected[b])
        allowed = max(TOLERANCE, RESOLVED_BY * resolution)
        where = f"input gradient of sample {b} (graph '{graph}')"
        found.append(_Finding(error, resolution, where, allowed, COARSEST))
    return found


def _best_estimate(estimates, predicted, scale: float) -> tuple[float, float]:
    """(error, resolution) relative to `scale` of the rung (rungs, d) whose estimate agrees
    best with the next rung's."""
    spread = np.sqrt(((estimates[:-1] - estimates[1:]) ** 2).mean(axis=1))  # (rungs - 1,)
    rung = int(np.argmin(spread))
    gap = float(np.sqrt(((estimates[rung] - predicted) ** 2).mean()))
    if scale <= 0:
        return (0.0 if gap == 0 else float("inf")), 0.0
    return gap / scale, float(spread[rung]) / scale


def _relative(ours, reference) -> float:
    reference = np.asarray(reference, dtype=np.float64)
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-12)
    return float(np.abs(np.asarray(ours, dtype=np.float64) - reference).max(initial=0.0)) / scale
