"""The self-check's numerics on hand-made callables: a smooth model whose exact gradient is
known, and gradients wrong in the ways a broken rule makes them."""

from __future__ import annotations

import numpy as np
import pytest

from app.gradients import self_check
from app.gradients.self_check import COARSEST, TOLERANCE, check_gradients
from app.gradients.session import ExplainResult

SHAPE, CLASSES = (3, 4, 4), 5
WEIGHTS = np.random.default_rng(3).standard_normal((int(np.prod(SHAPE)), CLASSES)) / 6


def logits(image: np.ndarray) -> np.ndarray:
    """A smooth model: tanh of a linear map (N, 48) -> (N, 5)."""
    return np.tanh(image.reshape(len(image), -1) @ WEIGHTS).astype(np.float32)


def frozen(image, base):  # nothing to freeze in a smooth model
    assert len(image) % len(base) == 0
    return logits(image)


def exact(image: np.ndarray, seed: np.ndarray) -> ExplainResult:
    slope = 1 - np.tanh(image.reshape(len(image), -1) @ WEIGHTS) ** 2  # (N, 5)
    grad = ((seed * slope) @ WEIGHTS.T).reshape(image.shape)
    return ExplainResult(logits(image), grad.astype(np.float32))


def check(explain):
    return check_gradients(logits, frozen, {"full": explain}, SHAPE)


def test_exact_gradients_pass_with_a_figure_far_below_the_tolerance():
    result = check(exact)
    assert result.passed
    assert result.error < TOLERANCE / 10 and result.resolution < TOLERANCE
    assert result.seconds > 0


@pytest.mark.parametrize(
    ("wrong", "where"),
    [
        (lambda r: ExplainResult(r.logits, r.input_grad * 1.02), "input gradient of sample"),
        (lambda r: ExplainResult(r.logits, np.roll(r.input_grad, 1, axis=-1)), "input gradient"),
        (lambda r: ExplainResult(r.logits + 0.01, r.input_grad), "logits"),
        (lambda r: ExplainResult(r.logits, np.full_like(r.input_grad, np.nan)), "input gradient"),
    ],
    ids=["two_percent_scale", "shifted_by_one_pixel", "other_logits", "nan"],
)
def test_a_wrong_gradient_fails_and_the_check_says_where(wrong, where):
    result = check(lambda image, seed: wrong(exact(image, seed)))
    assert not result.passed
    assert where in result.worst
    assert "self-check FAILED" in result.describe()


def test_a_gradient_wrong_only_for_the_second_sample_is_caught_there():
    def second_wrong(image, seed):
        result = exact(image, seed)
        result.input_grad[1] *= 1.05
        return result

    result = check(second_wrong)
    assert not result.passed
    assert result.worst == "input gradient of sample 1 (graph 'full')"


def test_a_model_whose_logits_barely_move_cannot_be_checked_and_fails():
    """Gradients of 1e-9 drown in float32 rounding: the differences see nothing, no pass."""

    def flat(image):
        return (logits(image) * 1e-9 + 3.0).astype(np.float32)

    def tiny_exact(image, seed):
        result = exact(image, seed)
        return ExplainResult(flat(image), result.input_grad * 1e-9)

    result = check_gradients(flat, lambda image, base: flat(image), {"full": tiny_exact}, SHAPE)
    assert not result.passed and result.error > 0.5


def test_a_model_whose_logits_move_little_is_resolved_by_a_wider_step():
    """Logits that move 1e-4 per unit of input sit in float32 rounding at the usual steps
    (resolution past COARSEST); the ladder's wider first rung sees them."""

    def flat(image):
        return (logits(image) * 1e-4 + 3.0).astype(np.float32)

    def small_exact(image, seed):
        return ExplainResult(flat(image), exact(image, seed).input_grad * 1e-4)

    result = check_gradients(flat, lambda image, base: flat(image), {"full": small_exact}, SHAPE)
    assert result.passed and result.resolution <= COARSEST


@pytest.mark.parametrize(
    ("shape", "directions", "rows"), [((1, 28, 28), 8, 16), ((3, 224, 224), 2, 2)]
)
def test_the_ladder_runs_at_most_chunk_rows_and_chunk_elements_in_whole_groups(
    shape, directions, rows
):
    seen = []

    def frozen(part, image):
        seen.append(len(part))
        return np.zeros((len(part), 10))

    image = np.zeros((2, *shape), np.float32)  # two samples
    along = np.ones((directions, *image.shape))
    self_check._Ladder(frozen, image, along, np.ones((2, 10))).slope(0.01)
    assert set(seen) == {rows} and sum(seen) == 2 * directions * 2  # ahead and behind
