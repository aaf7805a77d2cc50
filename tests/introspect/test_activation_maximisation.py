"""Activation maximisation: the regularisers, Adam, the ascent on class and channel
objectives, and the measured goal: an image grown for a digit on one shipped model is read as
that digit by the other."""

from functools import partial

import numpy as np
import pytest
import torch

from app.imaging.digits import fit_canvas
from app.introspect.activation_maximisation import (
    Adam,
    AscentParams,
    channel_gradient,
    class_gradient,
    grow,
    total_variation_gradient,
)
from app.runtime.loader import LoadOptions, load_store
from app.runtime.sessions import SessionFactory
from app.store.manifest import InputSpec, Preprocess
from tests.conftest import SHIPPED_STORE
from tests.tiny_models import running, tiny_cnn

PIXELS = Preprocess(mean=(0.5,), std=(0.25,))
SPEC = InputSpec(name="input", channels=1, height=28, width=28)
QUICK = AscentParams(steps=20)


def test_the_total_variation_gradient_equals_torch_autograd():
    images = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    x = torch.tensor(images, requires_grad=True)
    tv = ((x[..., 1:, :] - x[..., :-1, :]) ** 2).sum() + ((x[..., 1:] - x[..., :-1]) ** 2).sum()
    tv.backward()
    assert np.allclose(total_variation_gradient(images), x.grad.numpy())


def test_adam_climbs_a_concave_quadratic_to_its_top():
    top = np.array([1.0, -2.0, 3.0])
    theta, adam = np.zeros(3), Adam((3,), learning_rate=0.1)
    for _ in range(500):
        theta = adam.ascend(theta, -2 * (theta - top))
    np.testing.assert_allclose(theta, top, atol=1e-2)


def _tiny_class(index: int = 3):
    engine = running(tiny_cnn(1, 28, 10, seed=1)).engine
    return class_gradient(engine.run, 10, index, SPEC)


def test_a_class_objective_rises_and_the_image_stays_a_picture():
    history = []
    image, value, logits = grow(_tiny_class(), (1, 28, 28), PIXELS, QUICK,
                                lambda step, v: history.append(v))  # fmt: skip
    assert len(history) == 20 and value > history[0] + 0.5
    assert value == pytest.approx(float(logits[0, 3]))
    assert image.shape == (1, 1, 28, 28) and image.min() >= -2.0 and image.max() <= 2.0


@pytest.mark.parametrize(
    "knobs",
    [{}, {"parameterisation": "pixel"}, {"tv": 0.5, "l2": 0.0}, {"blur_every": 0, "jitter": 0}],
)
def test_the_ascent_is_reproducible_with_a_seed_and_another_seed_differs(knobs):
    params = AscentParams(steps=8, seed=7, **knobs)
    first = grow(_tiny_class(), (1, 28, 28), PIXELS, params)[0]
    again = grow(_tiny_class(), (1, 28, 28), PIXELS, params)[0]
    other = grow(_tiny_class(), (1, 28, 28), PIXELS, AscentParams(steps=8, seed=8, **knobs))[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_l2_alone_pulls_the_pixels_to_the_data_mean():
    flat = lambda image: (0.0, np.zeros_like(image), np.zeros((1, 2)))  # noqa: E731
    params = AscentParams(steps=300, l2=1.0, parameterisation="pixel", blur_every=0,
                          learning_rate=0.05)  # fmt: skip
    dark = Preprocess(mean=(0.2,), std=(0.3,))
    image, *_ = grow(flat, (1, 8, 8), dark, params)
    np.testing.assert_allclose(image * 0.3 + 0.2, 0.2, atol=0.02)


def test_a_channel_objective_raises_the_channel_mean_on_the_tiny_model():
    engine = running(tiny_cnn(1, 28, 10, seed=1)).engine
    objective = partial(engine.run_objective, layer="relu")
    fn = channel_gradient(objective, "relu", (1, 8, 14, 14), 5, SPEC)
    history = []
    _, after, _ = grow(fn, (1, 28, 28), PIXELS, QUICK, lambda step, v: history.append(v))
    assert after > history[0] + 0.1


def test_the_objective_session_is_built_once_per_layer_in_the_model_cache():
    engine = running(tiny_cnn(1, 28, 10)).engine
    image, seed = np.zeros((1, 1, 28, 28), np.float32), np.ones((1, 8, 14, 14), np.float32)
    for layer in ("relu", "relu", "conv"):
        engine.run_objective(image, seed, layer)
    objectives = [key for key in engine.cache if key[0] == "objective"]
    assert objectives == [("objective", "relu"), ("objective", "conv")]


def _as_input_of(pixels: np.ndarray, model) -> np.ndarray:
    """A digit's pixels (H, W) on another digit model's canvas, normalised as it expects:
    both models see MNIST's 28 x 28 frame, lenet5 padded to 32 x 32 (as its preprocessing
    fits a digit), so a 32 x 32 image gives up its border and a 28 x 28 one is padded."""
    size = model.spec.height
    if pixels.shape[0] > size:
        margin = (pixels.shape[0] - size) // 2
        pixels = pixels[margin : margin + size, margin : margin + size]
    canvas = fit_canvas(pixels, size, model.spec.width)
    return model.preprocessing.normalise(canvas[None, None])


@pytest.mark.slow
@pytest.mark.parametrize(("grown_on", "read_by"), [("mnist_cnn", "lenet5"),
                                                   ("lenet5", "mnist_cnn")])  # fmt: skip
def test_a_digit_grown_on_one_shipped_model_is_read_as_that_digit_by_the_other(grown_on, read_by):
    """At least 8 of 10 with the default knobs (10 of 10 measured, for seeds 0, 1 and 2;
    the plain ascent of before, pixels without warps or regularisers, gave 3 and 2)."""
    registry = load_store(SHIPPED_STORE, LoadOptions(SessionFactory(1)))
    source, reader = registry.get(grown_on), registry.get(read_by)
    spec, pre = source.spec, source.preprocessing
    read = []
    for digit in range(10):
        fn = class_gradient(source.engine.run, 10, digit, spec)
        image, _, _ = grow(fn, (1, spec.height, spec.width), pre, AscentParams(seed=0))
        pixels = pre.pixels(image[0])[0]  # (H, W) in [0, 1]
        read.append(int(np.argmax(reader.logits(_as_input_of(pixels, reader)))))
    assert sum(r == d for d, r in enumerate(read)) >= 8, read
