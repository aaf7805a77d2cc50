"""Model-parameter randomisation test (Adebayo et al. 2018, "Sanity Checks for Saliency
Maps", https://arxiv.org/abs/1810.03292) on the shipped mnist_cnn.

The dense layers' weights are re-drawn as torch initialises nn.Linear (uniform within
1/sqrt(fan_in)) in a copy of the ONNX model, and its gradient engine rebuilt. A map that
depends on what the model learnt must change: vanilla gradients and Grad-CAM do. Guided
backprop is known to fail the test: it keeps reconstructing the input through the
convolutions, so its maps stay alike. Similarity is Spearman's rank correlation of the
signed maps (ties take their average rank), averaged over held-out digits."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from app.explain.gradient_base import GradientParams
from app.explain.registry import METHODS
from app.runtime.model import RunningModel
from tests.tiny_models import running

TOP_LAYERS = ("dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias")
DIGITS = 8


def randomised(model: onnx.ModelProto, names: tuple[str, ...], seed: int = 0) -> onnx.ModelProto:
    """A copy of `model` whose initializers `names` are redrawn like torch's nn.Linear."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    rng = np.random.default_rng(seed)
    fan_in = {i.name: i.dims[-1] for i in copy.graph.initializer if len(i.dims) == 2}
    for initializer in copy.graph.initializer:
        if initializer.name in names:
            bound = 1 / np.sqrt(fan_in[initializer.name.replace(".bias", ".weight")])
            values = rng.uniform(-bound, bound, tuple(initializer.dims)).astype(np.float32)
            initializer.CopyFrom(numpy_helper.from_array(values, initializer.name))
    return copy


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(_ranks(a.ravel()), _ranks(b.ravel()))[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2)[inverse]


@pytest.fixture(scope="module")
def random_top_model(held_out_digits) -> RunningModel:
    model = held_out_digits.model
    names = {i.name for i in model.graph.graph.initializer}
    assert set(TOP_LAYERS) <= names, names
    fields = model.manifest.model_dump(exclude={"sha256"})
    return running(randomised(model.graph, TOP_LAYERS), fields)


def _mean_similarity(held_out_digits, randomised_model: RunningModel, key: str) -> float:
    method = METHODS[key]
    params = GradientParams(reduce="sum") if method.family == "gradient" else method.Params()
    similarities = []
    for row in range(DIGITS):
        given = held_out_digits.given(row)
        trained = method.explain(given, params).heatmaps[0]
        given.model = randomised_model
        similarities.append(spearman(trained, method.explain(given, params).heatmaps[0]))
    return float(np.mean(similarities))


@pytest.mark.parametrize(("key", "at_most"), [("saliency", 0.3), ("grad_cam", 0.5)])
def test_maps_that_depend_on_the_learnt_weights_change_when_the_top_layers_are_random(
    held_out_digits, random_top_model, key, at_most
):
    assert _mean_similarity(held_out_digits, random_top_model, key) < at_most


def test_guided_backprop_barely_changes_when_the_top_layers_are_random(
    held_out_digits, random_top_model
):
    assert _mean_similarity(held_out_digits, random_top_model, "guided_backprop") > 0.7


def test_spearman_averages_tied_ranks():
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])) == pytest.approx(1.0)
    np.testing.assert_allclose(_ranks(np.array([5.0, 1.0, 5.0, 0.0])), [3.5, 2.0, 3.5, 1.0])
