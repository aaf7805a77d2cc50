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

TOLERANCE, RESOLVED_BY, COARSEST, CONSISTENCY = 1e-3, 4.0, 3e-2, 1e-4
SAMPLES, DIRECTIONS = 2, 2
STEPS = (0.08, 0.04, 0.02, 0.01, 0.005)  # relative to each sample's RMS, each half the last
# a first rung for a sample the ladder resolves worse than COARSEST: a model whose logits
# barely move needs a larger step to rise above float32 rounding (EfficientNet-B0 at random
# weights: 3.3e-2 from 0.08 down on some CPUs)
WIDEST_STEP = 0.16
CHUNK = 16  # rows of the frozen forward per run, at most
# and input elements per run, at most (one group of samples whatever its size): 16 rows of a
# 224x224 photo model's frozen forward take ~600 MiB of arena for a moment at start-up, two
# rows ~340 MiB, in the same time
CHUNK_ELEMENTS = 2**18
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
    ladder = _Ladder(frozen, image, directions, weights)
    findings += _resolved_agreement(ladder, gradient, directions, first_name)
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


class _Ladder:
    """Central differences of seed . logits along the directions, (D, B) per step, run as
    the steps are asked for (in chunks of CHUNK rows, to bound the memory they take)."""

    def __init__(self, frozen: Frozen, image: np.ndarray, directions: np.ndarray, weights):
        self.frozen, self.image, self.weights = frozen, image, weights.astype(np.float64)
        self.count, self.samples = directions.shape[0], directions.shape[1]
        self.along = directions.reshape(self.count * self.samples, *image.shape[1:])  # d * B + b
        self.rows = np.tile(image, (self.count, *[1] * (image.ndim - 1))).astype(np.float64)
        self._slopes: dict[float, np.ndarray] = {}

    def slope(self, step: float) -> np.ndarray:
        if step not in self._slopes:
            both = self._objective(np.concatenate([self.rows + step * self.along,
                                                   self.rows - step * self.along]))  # fmt: skip
            ahead, behind = both[: len(self.rows)], both[len(self.rows) :]
            self._slopes[step] = ((ahead - behind) / (2 * step)).reshape(self.count, self.samples)
        return self._slopes[step]

    def _objective(self, points: np.ndarray) -> np.ndarray:
        values = []
        rows = min(CHUNK, CHUNK_ELEMENTS // points[0].size)
        chunk = max(1, rows // self.samples) * self.samples  # whole groups of the base batch
        for start in range(0, len(points), chunk):
            part = points[start : start + chunk].astype(np.float32)  # row r: base row r % B
            logits = np.asarray(self.frozen(part, self.image), dtype=np.float64)
            weights = np.tile(self.weights, (len(part) // self.samples, 1))
            values.append((logits * weights).sum(axis=1))
        return np.concatenate(values)


def _resolved_agreement(ladder: _Ladder, gradient, directions, graph: str) -> list[_Finding]:
    """`_agreement` on STEPS; where a sample is resolved worse than COARSEST, also on the
    ladder from WIDEST_STEP down, and per sample the better resolved of the two."""
    found = _agreement(ladder, gradient, directions, graph, STEPS)
    if all(f.resolution <= COARSEST for f in found):
        return found
    wider = _agreement(ladder, gradient, directions, graph, (WIDEST_STEP, *STEPS))
    return [min(a, b, key=lambda f: f.resolution) for a, b in zip(found, wider, strict=True)]


def _agreement(
    ladder: _Ladder, gradient, directions, graph: str, steps: tuple[float, ...]
) -> list[_Finding]:
    """Per sample: the best-resolved Richardson estimate against the directional derivative.
    The ladder runs from the largest step down, and stops once the estimates agree well
    enough that their spread cannot decide the verdict."""
    samples = len(gradient)
    flat_grad = gradient.reshape(1, samples, -1)
    flat_dirs = directions.reshape(directions.shape[0], samples, -1)
    predicted = (flat_grad * flat_dirs).sum(axis=2)  # (D, B)
    expected = np.sqrt((flat_grad**2).sum(axis=2)[0] * (flat_dirs**2).mean(axis=(0, 2)))  # (B,)
    for rungs in range(2, len(steps) + 1):
        slopes = np.stack([ladder.slope(step) for step in steps[:rungs]])  # (rungs, D, B)
        found = []
        for b in range(samples):
            error, resolution = _best_estimate(slopes[:, :, b], predicted[:, b], expected[b])
            allowed = max(TOLERANCE, RESOLVED_BY * resolution)
            where = f"input gradient of sample {b} (graph '{graph}')"
            found.append(_Finding(error, resolution, where, allowed, COARSEST))
        if all(f.resolution * RESOLVED_BY <= TOLERANCE for f in found):
            break
    return found


def _best_estimate(slopes, predicted, scale: float) -> tuple[float, float]:
    """(error, resolution) relative to `scale`, from the slopes (rungs, D) at halving steps.

    Each neighbouring pair gives a Richardson estimate (4 S(h) - S(2h)) / 3. With one pair,
    the resolution is the size of its correction, |S(h) - S(2h)| / 3 (generous: what is left
    after it is smaller); with more, the estimate that agrees best with the next one is used
    and their disagreement is the resolution.
    """
    richardson = (4 * slopes[1:] - slopes[:-1]) / 3  # (rungs - 1, D)
    if len(richardson) == 1:
        spread = np.sqrt((((slopes[1] - slopes[0]) / 3) ** 2).mean(keepdims=True))
    else:
        spread = np.sqrt(((richardson[:-1] - richardson[1:]) ** 2).mean(axis=1))
    rung = int(np.argmin(spread))
    gap = float(np.sqrt(((richardson[rung] - predicted) ** 2).mean()))
    if scale <= 0:
        return (0.0 if gap == 0 else float("inf")), 0.0
    return gap / scale, float(spread[rung]) / scale


def _relative(ours, reference) -> float:
    reference = np.asarray(reference, dtype=np.float64)
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-12)
    return float(np.abs(np.asarray(ours, dtype=np.float64) - reference).max(initial=0.0)) / scale
