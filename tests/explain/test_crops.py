"""Patch scores on crops against the plain runs (every patch's whole forward pass), on the zoo
nets and on hand-built graphs with odd geometry, for the planned chain and for chains chosen
by hand; the crops' alignment, and a misaligned crop that the comparison catches."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from app.explain import crops
from app.explain.base import Budget, ExplainInput
from app.explain.crops import AxisCrop, Span, axis_crop, chain_plan, cropped_scores, plan_crops
from app.explain.patches import crop_plan, patch_masks, plain_scores
from app.runtime.model import RunningModel
from tests.nets import export_onnx, make_net
from tests.tiny_models import running

ZOO_NETS = ("mnist_cnn", "resnet_tiny", "mobilenet_v2_tiny", "inception_tiny", "alexnet_tiny")
LAYOUTS = [((4, 4), 2), ((5, 3), 3), ((3, 3), 5), ((7, 6), 4)]  # (window, stride)


def _given(model: RunningModel, seed: int = 0) -> ExplainInput:
    spec = model.spec
    image = np.random.default_rng(seed).normal(0, 1, spec.batch_shape(1)).astype(np.float32)
    return ExplainInput(model, image, [1], Budget(10**9))


def _both(given: ExplainInput, window, stride, chain=None) -> tuple[np.ndarray, np.ndarray]:
    size = given.image.shape[2:]
    rows, cols = patch_masks(size, window, stride)
    baseline = np.full_like(given.image, 0.25)
    stem = given.model.segments.stem
    plan = chain_plan(stem, chain or stem.cuts, rows, cols, 1.0)
    plain = plain_scores(given, baseline, rows, cols, "logit")
    return cropped_scores(given, baseline, rows, cols, "logit", plan), plain


def _assert_close(ours: np.ndarray, plain: np.ndarray) -> None:
    scale = np.abs(plain).max()
    assert np.abs(ours - plain).max() <= 1e-5 * scale


@pytest.fixture(scope="module", params=ZOO_NETS)
def zoo_model(request: pytest.FixtureRequest) -> RunningModel:
    return running(export_onnx(make_net(request.param)))


@pytest.mark.parametrize(("window", "stride"), LAYOUTS)
def test_scores_on_crops_equal_the_plain_runs_through_every_cut(zoo_model, window, stride):
    _assert_close(*_both(_given(zoo_model), window, stride))


@pytest.mark.parametrize(("window", "stride"), LAYOUTS)
def test_scores_on_crops_equal_the_plain_runs_through_the_last_cut_only(zoo_model, window, stride):
    stem = zoo_model.segments.stem
    _assert_close(*_both(_given(zoo_model), window, stride, (stem.image, stem.cuts[-1])))


def _odd_geometry(size: tuple[int, int]) -> onnx.ModelProto:
    """Asymmetric pads with stride 2, a dilated conv, an average pool counting no pads, a
    residual sum and a pool, on a non-square image."""
    rng = np.random.default_rng(1)
    weights = {
        "w1": rng.normal(0, 0.5, (4, 3, 3, 2)),
        "w2": rng.normal(0, 0.5, (4, 4, 3, 3)),
        "w3": rng.normal(0, 0.5, (4, 4, 1, 1)),
    }
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"], strides=[2, 2], pads=[0, 1, 2, 0]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], dilations=[2, 1], pads=[2, 1, 2, 1]),
        helper.make_node(
            "AveragePool",
            ["r1"],
            ["a1"],
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
            count_include_pad=0,
        ),  # fmt: skip
        helper.make_node("Conv", ["a1", "w3"], ["c3"]),
        helper.make_node("Add", ["c2", "c3"], ["sum"]),
        helper.make_node("MaxPool", ["sum"], ["p1"], kernel_shape=[3, 2], strides=[3, 2]),
        helper.make_node("ReduceMean", ["p1"], ["logits"], axes=[2, 3], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "odd",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, *size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 4])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("size", [(37, 29), (20, 41)])
@pytest.mark.parametrize(("window", "stride"), LAYOUTS)
def test_scores_on_crops_equal_the_plain_runs_on_odd_geometry(size, window, stride):
    model = running(_odd_geometry(size))
    assert model.segments.stem.cuts == ("input", "c1", "r1", "sum", "p1")
    _assert_close(*_both(_given(model), window, stride))
    _assert_close(*_both(_given(model), window, stride, ("input", "sum")))


def test_a_crop_off_its_part_s_grid_is_caught(monkeypatch):
    """The comparison above can fail: crops started where the change begins, not on the
    part's stride, shift the strided convolutions' grid."""
    model = running(_odd_geometry((37, 29)))

    def off_grid(changed: Span, stride: int, low: int, high: int, size: int) -> AxisCrop:
        aligned = axis_crop(changed, stride, low, high, size)
        starts = np.minimum(np.maximum(0, changed.first * stride + low), size - aligned.length)
        return AxisCrop(aligned.length, starts, changed, stride)

    monkeypatch.setattr(crops, "axis_crop", off_grid)
    ours, plain = _both(_given(model), (5, 3), 3, ("input", "sum"))
    assert np.abs(ours - plain).max() > 1e-3 * np.abs(plain).max()


@pytest.mark.parametrize("size", [28, 29, 56, 224])
@pytest.mark.parametrize("stride", [1, 2, 4, 8])
def test_each_crop_starts_on_the_grid_and_holds_what_its_changed_span_reads(size, stride):
    rows, _ = patch_masks((size, size), (max(2, size // 7), None), None)
    low, high = -3 * stride, 2 * stride + 1
    output = (size + 5 * stride) // stride
    changed = Span.of_masks(rows).reached(1, 0, 0, size)  # the image's own rows
    changed = Span(changed.first // stride, np.minimum(changed.last // stride, output - 1))
    crop = axis_crop(changed, stride, low, high, size)
    assert (crop.starts % stride == 0).all()
    assert crop.length <= size and (crop.starts + crop.length <= size).all()
    assert (size - crop.length) % stride == 0  # a crop moved back from the edge stays on the grid
    need_first = np.maximum(0, changed.first * stride + low)
    need_last = np.minimum(size - 1, changed.last * stride + high)
    assert (crop.starts <= need_first).all() and (need_last < crop.starts + crop.length).all()


def test_a_plan_is_made_where_crops_save_and_kept_per_layout():
    model = running(export_onnx(make_net("mnist_cnn")))
    given = _given(model)
    rows, cols = patch_masks((28, 28), (4, 4), 2)
    plan = crop_plan(given, rows, cols)
    assert plan is not None and plan.estimate < 1 - crops.MIN_SAVING
    assert crop_plan(given, rows, cols) is plan
    # a window as large as the image changes everything: no saving
    rows, cols = patch_masks((28, 28), (28, 28), 28)
    assert plan_crops(model.segments.stem, rows, cols) is None


def test_the_occlusion_route_gives_the_plain_scores_on_the_zoo_nets(zoo_model):
    """What Occlusion runs (crops where planned) against the plain runs."""
    from app.explain.patches import patch_scores

    given = _given(zoo_model, seed=3)
    rows, cols = patch_masks(given.image.shape[2:], (4, 4), 2)
    baseline = np.zeros_like(given.image)
    ours = patch_scores(given, baseline, rows, cols, "probability")
    _assert_close(ours, plain_scores(given, baseline, rows, cols, "probability"))


def test_channels_last_models_keep_the_plain_runs():
    model = running(export_onnx(make_net("mnist_cnn")))
    given = _given(model)
    given.model.manifest.input.__dict__["layout"] = "NHWC"  # only the layout is read
    try:
        rows, cols = patch_masks((28, 28), (4, 4), 2)
        assert crop_plan(given, rows, cols) is None
    finally:
        given.model.manifest.input.__dict__["layout"] = "NCHW"
