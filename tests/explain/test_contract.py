"""Checks every method must pass (after Captum's shared test config): shape, dtype, finite
values, determinism, input untouched, several targets equal one-by-one; and its cost hook
tells the truth: the passes it runs are the passes it says, and the budget refuses them."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from app.errors import OverBudgetError
from app.explain.options import ExplainOptions
from app.explain.patches import crop_plan, patch_masks
from app.explain.registry import METHODS
from app.explain.service import ImageUpload, RequestLimits, explain_image
from app.imaging.decode import ImageLimits
from tests.explain.conftest import build_case


@pytest.fixture(scope="module")
def lenet():
    return build_case("lenet5", seed=1)


@pytest.mark.parametrize("key", sorted(METHODS))
def test_every_method_keeps_the_contract(lenet, key):
    method = METHODS[key]
    params = method.Params()
    given = lenet.given([3, 8])
    before = given.image.copy()
    explanation = method.explain(given, params)
    np.testing.assert_array_equal(given.image, before)
    assert explanation.heatmaps.shape == (2, *lenet.image.shape[2:])
    assert explanation.heatmaps.dtype == np.float32
    assert np.isfinite(explanation.heatmaps).all()
    if method.family == "cam" and explanation.attributions is None:
        assert explanation.heatmaps.min() >= 0
    again = method.explain(lenet.given([3, 8]), params)
    np.testing.assert_array_equal(explanation.heatmaps, again.heatmaps)
    for row, target in enumerate((3, 8)):
        alone = method.explain(lenet.given([target]), params).heatmaps[0]
        np.testing.assert_allclose(explanation.heatmaps[row], alone, rtol=1e-4, atol=1e-6)


@dataclass
class Passes:
    forward: int = 0
    backward: int = 0


class Counting:
    """Wraps a part of a running model whose `run` takes a batch: counts the rows it runs
    forwards (and backwards, for the gradient engine)."""

    def __init__(self, part, passes: Passes, batch_argument: int, backward: bool) -> None:
        self.part, self.passes = part, passes
        self.batch_argument, self.backward = batch_argument, backward

    def run(self, *args, **kwargs):
        rows = len(args[self.batch_argument])
        self.passes.forward += rows
        self.passes.backward += rows if self.backward else 0
        return self.part.run(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.part, name)


class CountingSegments:
    """Wraps a model's segments: a row through the network after the last cut ends one
    forward pass (the parts before it ran on crops of the same rows)."""

    def __init__(self, segments, passes: Passes) -> None:
        self.segments, self.passes = segments, passes

    def chain(self, cuts):
        chain, passes = self.segments.chain(cuts), self.passes

        class CountingChain:
            def part(self, index, batch):
                return chain.part(index, batch)

            def logits(self, batch):
                passes.forward += len(batch)
                return chain.logits(batch)

        return CountingChain()

    def __getattr__(self, name):
        return getattr(self.segments, name)


def counted(given, passes: Passes):
    """`given`, every run of its model counted in `passes`."""
    model = dataclasses.replace(
        given.model,
        engine=Counting(given.model.engine, passes, 0, backward=True),
        taps=Counting(given.model.taps, passes, 0, backward=False),
        tails=Counting(given.model.tails, passes, 1, backward=False),
        segments=CountingSegments(given.model.segments, passes),
    )
    forward = given.model.logits

    def logits(batch):
        passes.forward += len(batch)
        return forward(batch)

    model.logits = logits  # type: ignore[method-assign]
    return dataclasses.replace(given, model=model)


@pytest.mark.parametrize("key", sorted(METHODS))
def test_every_method_costs_what_its_cost_hook_says(lenet, key):
    method = METHODS[key]
    given, passes = lenet.given([3, 8]), Passes()
    method.explain(counted(given, passes), method.Params())
    cost = method.cost(method.Params(), given.workload())
    if method.cost_is_exact:
        assert (passes.forward, passes.backward) == (cost.forward, cost.backward)
    else:
        assert passes.forward <= cost.forward and passes.backward <= cost.backward


def test_occlusion_on_crops_costs_what_its_cost_hook_says():
    """mnist_cnn's occlusion runs on crops (LeNet-5's above keeps the whole passes)."""
    case = build_case("mnist_cnn")
    method, params = METHODS["occlusion"], METHODS["occlusion"].Params()
    given, passes = case.given([3]), Passes()
    rows, cols = patch_masks(given.image.shape[2:], (None, None), None)
    assert crop_plan(given, rows, cols) is not None
    method.explain(counted(given, passes), params)
    assert passes.forward == method.cost(params, given.workload()).forward


def _explain_within(lenet, key: str, passes: int):
    """The service's answer for a grey picture and method `key` with a budget of `passes`."""
    picture = io.BytesIO()
    Image.new("L", lenet.image.shape[2:], 128).save(picture, "PNG")
    limits = RequestLimits(ImageLimits(), forward_passes=passes)
    options = ExplainOptions(target=["3"])
    method = METHODS[key]
    upload = ImageUpload(picture.getvalue())
    return explain_image(lenet.model, method, method.Params(), options, upload, limits)


@pytest.mark.parametrize("key", sorted(METHODS))
def test_every_request_is_refused_below_its_forward_passes_and_served_at_them(lenet, key):
    method = METHODS[key]
    need = method.cost(method.Params(), lenet.given([3]).workload()).forward
    with pytest.raises(OverBudgetError, match=f"needs {need} forward passes"):
        _explain_within(lenet, key, need - 1)
    assert _explain_within(lenet, key, need).maps


@pytest.mark.parametrize("key", sorted(METHODS))
def test_every_cost_rule_is_written_down_where_it_is_defined(key):
    owner = next(c for c in type(METHODS[key]).__mro__ if "cost" in vars(c))
    assert (vars(owner)["cost"].__doc__ or "").strip()
