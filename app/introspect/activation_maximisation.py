"""Activation maximisation (Erhan et al. 2009, "Visualizing Higher-Layer Features of a Deep
Network"; as keras-vis `visualize_activation`): the input that most excites a class logit or
a channel's mean activation, found by gradient ascent from a grey, slightly noisy image.

Each step, in the model's input space (after mean/std normalisation):
    x <- clip(x + lr * (g / rms(g) - l2 * x - tv * dTV(x)))
where g is the objective's gradient (from the gradient engine; at the layer for a channel),
computed on x rolled by a random jitter of up to `jitter` pixels and rolled back; every
`blur_every` steps x is blurred (Gaussian, `blur_sigma`). Normalising g makes `learning_rate`
the step per pixel in input units. L2 decays x towards 0 (the data mean); TV is the squared
total variation. x stays inside the image of pixels in [0, 1]. Seedable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.gradients import ExplainResult
from app.imaging.smoothing import gaussian_blur
from app.store.manifest import InputSpec, Preprocess

# image (1, C, H, W) in NCHW -> (objective value, gradient like the image, logits (1, K))
GradientFn = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]
# (image in the model's layout, seed like the objective tensor) -> one explain-graph run
ObjectiveRun = Callable[[np.ndarray, np.ndarray], ExplainResult]


@dataclass(frozen=True)
class AscentParams:
    """The knobs of the ascent (see the module docstring)."""

    steps: int = 128
    learning_rate: float = 0.1
    l2: float = 0.0
    tv: float = 0.0
    jitter: int = 0
    blur_every: int = 0
    blur_sigma: float = 0.5
    seed: int | None = 0


def start_image(
    shape: tuple[int, ...], preprocess: Preprocess, rng: np.random.Generator
) -> np.ndarray:
    """Grey (0.5) pixels plus noise of 0.1, clipped to [0, 1], as an input (1, C, H, W)."""
    pixels = np.clip(0.5 + 0.1 * rng.standard_normal(shape), 0.0, 1.0)  # (1, C, H, W)
    return preprocess.normalise(pixels)


def pixel_bounds(preprocess: Preprocess) -> tuple[np.ndarray, np.ndarray]:
    """Input-space values of pixels 0 and 1, per channel, shaped (1, C, 1, 1)."""
    return preprocess.input_value(0.0)[None], preprocess.input_value(1.0)[None]


def total_variation_gradient(images: np.ndarray) -> np.ndarray:
    """Gradient of the squared total variation sum((dx)^2 + (dy)^2) of (N, C, H, W) images."""
    grad = np.zeros_like(images)
    rows = images[..., 1:, :] - images[..., :-1, :]  # (N, C, H-1, W)
    cols = images[..., :, 1:] - images[..., :, :-1]  # (N, C, H, W-1)
    grad[..., 1:, :] += 2 * rows
    grad[..., :-1, :] -= 2 * rows
    grad[..., :, 1:] += 2 * cols
    grad[..., :, :-1] -= 2 * cols
    return grad


def jittered_gradient(fn: GradientFn, image: np.ndarray, shift: tuple[int, int]):
    """The objective and gradient on the image rolled by `shift`, the gradient rolled back."""
    value, grad, logits = fn(np.roll(image, shift, axis=(-2, -1)))
    return value, np.roll(grad, (-shift[0], -shift[1]), axis=(-2, -1)), logits


def ascend(
    fn: GradientFn,
    image: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    params: AscentParams,
    on_step: Callable[[int, float], None] = lambda step, value: None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Run the ascent from `image` (1, C, H, W); returns (image, final objective, logits).
    `on_step(step, value)` is called after each step with the objective before it."""
    rng = np.random.default_rng(params.seed)
    x = image.astype(np.float32).copy()
    for step in range(1, params.steps + 1):
        dy, dx = (int(s) for s in rng.integers(-params.jitter, params.jitter + 1, size=2))
        value, grad, _ = jittered_gradient(fn, x, (dy, dx)) if params.jitter else fn(x)
        rms = float(np.sqrt(np.mean(grad.astype(np.float64) ** 2)))
        direction = grad / rms if rms > 0 else grad
        direction = direction - params.l2 * x - params.tv * total_variation_gradient(x)
        x = np.clip(x + params.learning_rate * direction, *bounds).astype(np.float32)
        if params.blur_every and step % params.blur_every == 0:
            x = np.clip(gaussian_blur(x, params.blur_sigma), *bounds)
        on_step(step, value)
    value, _, logits = fn(x)
    return x, value, logits


def class_gradient(run, classes: int, index: int, spec: InputSpec) -> GradientFn:
    """Logit `index` and its input gradient, with `run(image, seed)` = GradientEngine.run;
    images are (1, C, H, W) here and in the model's layout (`spec`) for `run`."""
    seed = np.zeros((1, classes), dtype=np.float32)
    seed[0, index] = 1.0

    def fn(image: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        result = run(spec.to_model_layout(image), seed)
        grad = spec.to_nchw(result.required_input_grad())
        return float(result.logits[0, index]), grad, result.logits

    return fn


def channel_gradient(
    run: ObjectiveRun, layer: str, shape: tuple[int, ...], channel: int, spec: InputSpec
) -> GradientFn:
    """The mean activation of `channel` of `layer` (shape (1, C, ...)) and its input gradient,
    with `run(image, seed)` = GradientEngine.run_objective for `layer`."""
    seed = np.zeros(shape, dtype=np.float32)
    seed[0, channel] = 1.0 / max(1, int(np.prod(shape[2:])))

    def fn(image: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        result = run(spec.to_model_layout(image), seed)
        value = float(result.activations[layer][0, channel].mean())
        return value, spec.to_nchw(result.required_input_grad()), result.logits

    return fn
