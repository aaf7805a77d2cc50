"""Activation maximisation: regularisers, the ascent, class and channel objectives."""

import numpy as np
import pytest
import torch

from app.explain.engine import GradientEngine
from app.introspect.activation_maximisation import (
    AscentParams,
    ascend,
    channel_gradient,
    class_gradient,
    objective_session,
    pixel_bounds,
    start_image,
    total_variation_gradient,
)
from tests.tiny_models import tiny_cnn

MEAN, STD = (0.5,), (0.25,)


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
    image = start_image((1, 1, 28, 28), MEAN, STD, np.random.default_rng(0))
    low, high = pixel_bounds(MEAN, STD)
    assert (low.item(), high.item()) == (-2.0, 2.0)
    assert image.min() >= -2.0 and image.max() <= 2.0 and abs(image.mean()) < 0.1


def test_the_ascent_climbs_a_linear_objective_and_stays_in_bounds():
    weights = np.random.default_rng(1).standard_normal((1, 1, 8, 8)).astype(np.float32)
    history = []
    bounds = pixel_bounds(MEAN, STD)
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
    start, bounds = np.zeros_like(weights), pixel_bounds(MEAN, STD)
    first = ascend(linear_objective(weights), start, bounds, params)[0]
    second = ascend(linear_objective(weights), start, bounds, params)[0]
    assert np.array_equal(first, second)


def test_l2_decay_pulls_the_image_towards_the_data_mean():
    flat = linear_objective(np.zeros((1, 1, 4, 4), np.float32))
    start = np.full((1, 1, 4, 4), 1.5, np.float32)
    image, *_ = ascend(flat, start, pixel_bounds(MEAN, STD), AscentParams(steps=10, l2=0.5))
    assert np.allclose(image, 1.5 * (1 - 0.1 * 0.5) ** 10)


def test_a_class_objective_raises_its_logit_on_the_tiny_model():
    engine = GradientEngine(tiny_cnn(1, 28, 10, seed=1))
    fn = class_gradient(engine.run, 10, 3)
    start = start_image((1, 1, 28, 28), MEAN, STD, np.random.default_rng(0))
    history = []
    _, value, logits = ascend(fn, start, pixel_bounds(MEAN, STD), AscentParams(steps=20),
                              lambda step, v: history.append(v))  # fmt: skip
    assert value > history[0] + 1.0
    assert value == pytest.approx(float(logits[0, 3]))


def test_a_channel_objective_raises_the_channel_mean_on_the_tiny_model():
    model = tiny_cnn(1, 28, 10, seed=1)
    fn = channel_gradient(objective_session(model, "relu"), "relu", (1, 8, 14, 14), 5)
    start = start_image((1, 1, 28, 28), MEAN, STD, np.random.default_rng(0))
    before = fn(start)[0]
    _, after, _ = ascend(fn, start, pixel_bounds(MEAN, STD), AscentParams(steps=20))
    assert after > before + 0.5


def test_the_objective_session_is_built_once_per_model_and_layer():
    model = tiny_cnn(1, 28, 10)
    assert objective_session(model, "relu") is objective_session(model, "relu")
    assert objective_session(model, "conv") is not objective_session(model, "relu")
