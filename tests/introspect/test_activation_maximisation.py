"""Activation maximisation: regularisers, the ascent, class and channel objectives."""

from functools import partial

import numpy as np
import pytest
import torch

from app.introspect.activation_maximisation import (
    AscentParams,
    ascend,
    channel_gradient,
    class_gradient,
    pixel_bounds,
    start_image,
    total_variation_gradient,
)
from app.store.manifest import InputSpec, Preprocess
from tests.tiny_models import running, tiny_cnn

PIXELS = Preprocess(mean=(0.5,), std=(0.25,))
SPEC = InputSpec(name="input", channels=1, height=28, width=28)


def linear_objective(weights: np.ndarray):
    def fn(image):
        return float((weights * image).sum()), weights.copy(), np.zeros((1, 2), np.float32)

    return fn


def test_the_total_variation_gradient_equals_torch_autograd():
    images = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    x = torch.tensor(images, requires_grad=True)
    tv = ((x[..., 1:, :] - x[..., :-1, :]) ** 2).sum() + ((x[..., 1:] - x[..., :-1]) ** 2).sum()
    tv.backward()
    assert np.allclose(total_variation_gradient(images), x.grad.numpy())


def test_the_start_image_is_grey_with_noise_inside_the_pixel_bounds():
    image = start_image((1, 1, 28, 28), PIXELS, np.random.default_rng(0))
    low, high = pixel_bounds(PIXELS)
    assert (low.item(), high.item()) == (-2.0, 2.0)
    assert image.min() >= -2.0 and image.max() <= 2.0 and abs(image.mean()) < 0.1


def test_the_ascent_climbs_a_linear_objective_and_stays_in_bounds():
    weights = np.random.default_rng(1).standard_normal((1, 1, 8, 8)).astype(np.float32)
    history = []
    bounds = pixel_bounds(PIXELS)
    image, value, _ = ascend(
        linear_objective(weights), np.zeros_like(weights), bounds, AscentParams(steps=30),
        lambda step, v: history.append(v),
    )  # fmt: skip
    assert len(history) == 30 and all(b > a for a, b in zip(history, history[1:], strict=False))
    assert value > history[-1] and image.min() >= -2.0 and image.max() <= 2.0


@pytest.mark.parametrize("knobs", [{"jitter": 2}, {"l2": 0.1, "tv": 0.05}, {"blur_every": 3}])
def test_the_ascent_is_reproducible_with_a_seed(knobs):
    weights = np.random.default_rng(2).standard_normal((1, 1, 8, 8)).astype(np.float32)
    params = AscentParams(steps=10, seed=7, **knobs)
    start, bounds = np.zeros_like(weights), pixel_bounds(PIXELS)
    first = ascend(linear_objective(weights), start, bounds, params)[0]
    second = ascend(linear_objective(weights), start, bounds, params)[0]
    assert np.array_equal(first, second)


def test_l2_decay_pulls_the_image_towards_the_data_mean():
    flat = linear_objective(np.zeros((1, 1, 4, 4), np.float32))
    start = np.full((1, 1, 4, 4), 1.5, np.float32)
    image, *_ = ascend(flat, start, pixel_bounds(PIXELS), AscentParams(steps=10, l2=0.5))
    assert np.allclose(image, 1.5 * (1 - 0.1 * 0.5) ** 10)


def test_a_class_objective_raises_its_logit_on_the_tiny_model():
    engine = running(tiny_cnn(1, 28, 10, seed=1)).engine
    fn = class_gradient(engine.run, 10, 3, SPEC)
    start = start_image((1, 1, 28, 28), PIXELS, np.random.default_rng(0))
    history = []
    _, value, logits = ascend(fn, start, pixel_bounds(PIXELS), AscentParams(steps=20),
                              lambda step, v: history.append(v))  # fmt: skip
    assert value > history[0] + 1.0
    assert value == pytest.approx(float(logits[0, 3]))


def test_a_channel_objective_raises_the_channel_mean_on_the_tiny_model():
    engine = running(tiny_cnn(1, 28, 10, seed=1)).engine
    objective = partial(engine.run_objective, layer="relu")
    fn = channel_gradient(objective, "relu", (1, 8, 14, 14), 5, SPEC)
    start = start_image((1, 1, 28, 28), PIXELS, np.random.default_rng(0))
    before = fn(start)[0]
    _, after, _ = ascend(fn, start, pixel_bounds(PIXELS), AscentParams(steps=20))
    assert after > before + 0.5


def test_the_objective_session_is_built_once_per_layer_in_the_model_cache():
    engine = running(tiny_cnn(1, 28, 10)).engine
    image, seed = np.zeros((1, 1, 28, 28), np.float32), np.ones((1, 8, 14, 14), np.float32)
    for layer in ("relu", "relu", "conv"):
        engine.run_objective(image, seed, layer)
    objectives = [key for key in engine.cache if key[0] == "objective"]
    assert objectives == [("objective", "relu"), ("objective", "conv")]
