"""Activation maximisation a person can read (Erhan et al. 2009; with the remedies of Olah et
al. 2017, "Feature Visualization", https://distill.pub/2017/feature-visualization/): the
input that most excites a class logit or a channel's mean activation, grown by gradient
ascent with the known ways of keeping it from turning into adversarial noise.

Each step:
1. the image's parameters theta give pixels in (0, 1) (`image_parameterisation`: a
   Fourier-space spectrum by default, colours decorrelated for RGB, through a sigmoid), and
   the model's input x = (pixels - mean) / std;
2. the model sees x through a random small warp (`transforms`: a shift of up to `jitter`
   pixels, a scale in 1 +- `scale`, a rotation of up to `rotation` degrees): transformation
   robustness;
3. the objective's gradient (from the gradient engine) comes back through the warp to the
   pixels, is divided by its root mean square (so the regularisers' weights do not depend
   on the model's scale), and the regularisers are added: `l2` times the gradient of
   -|pixels - data mean|^2 and `tv` times that of minus the squared total variation;
4. Adam (Kingma & Ba 2015) climbs in theta, `learning_rate` per step; every `blur_every`
   steps the image is blurred by `blur_sigma` pixels (in theta: the spectrum times the
   blur's transfer function).
The result is the un-warped image. Seedable: one seed draws the start and every warp.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.gradients import ExplainResult
from app.introspect.image_parameterisation import Kind, Parameterisation
from app.introspect.transforms import random_warp
from app.store.manifest import InputSpec, Preprocess

# image (1, C, H, W) in NCHW -> (objective value, gradient like the image, logits (1, K))
GradientFn = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]
# (image in the model's layout, seed like the objective tensor) -> one explain-graph run
ObjectiveRun = Callable[[np.ndarray, np.ndarray], ExplainResult]
ADAM_BETAS, ADAM_EPSILON = (0.9, 0.999), 1e-8


@dataclass(frozen=True)
class AscentParams:
    """The knobs of the ascent (see the module docstring); `jitter` None is 1/16 of the
    image's longer side (at least 1 pixel)."""

    steps: int = 256
    learning_rate: float = 0.05
    parameterisation: Kind = "fourier"
    decorrelate: bool = True
    jitter: int | None = None
    scale: float = 0.1
    rotation: float = 10.0
    l2: float = 0.5
    tv: float = 0.0
    blur_every: int = 4
    blur_sigma: float = 0.5
    seed: int | None = 0


def total_variation_gradient(images: np.ndarray) -> np.ndarray:
    """Gradient of the squared total variation sum((dx)^2 + (dy)^2) of (..., H, W) images."""
    grad = np.zeros_like(images)
    rows = images[..., 1:, :] - images[..., :-1, :]
    cols = images[..., :, 1:] - images[..., :, :-1]
    grad[..., 1:, :] += 2 * rows
    grad[..., :-1, :] -= 2 * rows
    grad[..., :, 1:] += 2 * cols
    grad[..., :, :-1] -= 2 * cols
    return grad


class Adam:
    """Adam's update for ascent, on one array of parameters."""

    def __init__(self, shape: tuple[int, ...], learning_rate: float) -> None:
        self.rate, self.step = learning_rate, 0
        self.first, self.second = np.zeros(shape), np.zeros(shape)

    def ascend(self, theta: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        self.step += 1
        beta1, beta2 = ADAM_BETAS
        self.first = beta1 * self.first + (1 - beta1) * gradient
        self.second = beta2 * self.second + (1 - beta2) * gradient**2
        first = self.first / (1 - beta1**self.step)
        second = self.second / (1 - beta2**self.step)
        return theta + self.rate * first / (np.sqrt(second) + ADAM_EPSILON)


def pixel_direction(
    gradient: np.ndarray, pixels: np.ndarray, mean: np.ndarray, params: AscentParams
) -> np.ndarray:
    """The ascent direction on the pixels (C, H, W): the objective's pixel gradient over its
    root mean square, plus the regularisers' gradients."""
    rms = float(np.sqrt(np.mean(gradient**2)))
    direction = gradient / rms if rms > 0 else gradient
    direction = direction - params.l2 * 2 * (pixels - mean[:, None, None])
    return direction - params.tv * total_variation_gradient(pixels)


def grow(
    fn: GradientFn,
    shape: tuple[int, int, int],
    preprocess: Preprocess,
    params: AscentParams,
    on_step: Callable[[int, float], None] = lambda step, value: None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Grow an image of `shape` (C, H, W); returns (the model's input (1, C, H, W) NCHW, the
    final objective, its logits). `on_step(step, value)` is called after each step with the
    objective the step climbed from."""
    rng = np.random.default_rng(params.seed)
    image = Parameterisation(params.parameterisation, shape, params.decorrelate)
    theta = image.initial(rng)
    mean, std = (np.asarray(v, dtype=np.float64) for v in (preprocess.mean, preprocess.std))
    jitter = params.jitter if params.jitter is not None else max(1, max(shape[1:]) // 16)
    adam = Adam(theta.shape, params.learning_rate)
    for step in range(1, params.steps + 1):
        pixels = image.pixels(theta)  # (C, H, W)
        model_input = (pixels - mean[:, None, None]) / std[:, None, None]
        warp = random_warp(rng, shape[1:], jitter, params.scale, params.rotation)
        value, gradient, _ = fn(warp.apply(model_input, np.zeros(shape[0]))[None])
        pixel_gradient = warp.adjoint(gradient[0].astype(np.float64)) / std[:, None, None]
        direction = pixel_direction(pixel_gradient, pixels, mean, params)
        theta = adam.ascend(theta, image.backward(theta, direction))
        if params.blur_every and step % params.blur_every == 0:
            theta = image.blurred(theta, params.blur_sigma)
        on_step(step, value)
    pixels = image.pixels(theta)
    final = ((pixels - mean[:, None, None]) / std[:, None, None])[None].astype(np.float32)
    value, _, logits = fn(final)
    return final, value, logits


def class_gradient(run, classes: int, index: int, spec: InputSpec) -> GradientFn:
    """Logit `index` and its input gradient, with `run(image, seed)` = GradientEngine.run;
    images are (1, C, H, W) here and in the model's layout (`spec`) for `run`."""
    seed = np.zeros((1, classes), dtype=np.float32)
    seed[0, index] = 1.0

    def fn(image: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        result = run(spec.to_model_layout(image.astype(np.float32)), seed)
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
        result = run(spec.to_model_layout(image.astype(np.float32)), seed)
        value = float(result.activations[layer][0, channel].mean())
        return value, spec.to_nchw(result.required_input_grad()), result.logits

    return fn
