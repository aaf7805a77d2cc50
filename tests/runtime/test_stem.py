"""A model's convolutional stem (app/runtime/stem.py) and its footprints (footprints.py): a
worked example, the ops that end the stem, and the footprints checked by moving one input
pixel on the zoo nets."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from app.explain.crops import Span
from app.runtime.footprints import Footprint
from app.runtime.layers import static_shapes
from app.runtime.stem import StemGraph
from tests.nets import export_onnx, make_net
from tests.tiny_models import running


def _model(nodes: list, weights: dict[str, np.ndarray], size=(12, 12)) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "stem",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2, *size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _head(last: str, features: int) -> tuple[list, dict[str, np.ndarray]]:
    nodes = [
        helper.make_node("Flatten", [last], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1),
    ]
    return nodes, {"fc_w": np.ones((3, features)), "fc_b": np.zeros(3)}


def _stem(model: onnx.ModelProto) -> StemGraph:
    return StemGraph(model, static_shapes(model))


def worked_example() -> onnx.ModelProto:
    """Conv 3x3 stride 2 pad 1 -> Relu -> MaxPool 2 stride 2 -> Conv 3x3 dilation 2 pad 2."""
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], dilations=[2, 2], pads=[2, 2, 2, 2]),
    ]
    head, weights = _head("c2", 4 * 3 * 3)
    return _model(
        nodes + head, {"w1": np.ones((4, 2, 3, 3)), "w2": np.ones((4, 4, 3, 3)), **weights}
    )


def test_the_worked_example_has_the_footprints_worked_out_by_hand():
    stem = _stem(worked_example())
    assert stem.cuts == ("input", "c1", "r1", "p1", "c2")  # Flatten ends the stem
    # c1: o reads 2o-1 .. 2o+1; p1: c1 pixels 2o, 2o+1, so input 4o-1 .. 4o+3;
    # c2: p1 pixels o-2, o, o+2, so input 4o-9 .. 4o+11
    assert stem.footprint("input", "c1") == Footprint((2, 2), (-1, -1), (1, 1))
    assert stem.footprint("input", "p1") == Footprint((4, 4), (-1, -1), (3, 3))
    assert stem.footprint("input", "c2") == Footprint((4, 4), (-9, -9), (11, 11))
    assert stem.footprint("p1", "c2") == Footprint((1, 1), (-2, -2), (2, 2))
    # the multiply-adds of c2 on a 3x3 pool: 9 pixels x 4 out x (4 in x 9)
    assert stem.cost("p1", "c2", (3, 3)) == 9 * 4 * 4 * 9


def test_a_residual_block_is_cut_at_its_sum_not_inside():
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["sum"]),
    ]
    head, weights = _head("sum", 2 * 12 * 12)
    stem = _stem(
        _model(nodes + head, {"w1": np.ones((2, 2, 3, 3)), "w2": np.ones((2, 2, 3, 3)), **weights})
    )
    assert stem.cuts == ("input", "c1", "r1", "sum")  # c2 is skipped over by r1
    assert stem.footprint("r1", "sum") == Footprint((1, 1), (-1, -1), (1, 1))


@pytest.mark.parametrize(
    "second",
    [
        helper.make_node(
            "MaxPool", ["c1"], ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1
        ),
        helper.make_node("MaxPool", ["c1"], ["x"], kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
        helper.make_node("Add", ["c1", "spatial"], ["x"]),  # a constant that varies per pixel
        helper.make_node("Add", ["c1", "per_width"], ["x"]),  # (W,) broadcasts along the width
        helper.make_node("GlobalAveragePool", ["c1"], ["x"]),
        helper.make_node("Resize", ["c1", "", "scales"], ["x"]),
    ],
    ids=["ceil_mode", "auto_pad", "spatial_constant", "width_constant", "global_pool", "resize"],
)
def test_ops_that_mix_positions_end_the_stem(second):
    weights = {
        "w1": np.ones((2, 2, 1, 1)),
        "spatial": np.arange(2 * 12 * 12).reshape(1, 2, 12, 12),
        "per_width": np.arange(12),
        "scales": np.ones(4),
    }
    nodes = [helper.make_node("Conv", ["input", "w1"], ["c1"]), second]
    model = _model(
        nodes + [helper.make_node("ReduceMean", ["x"], ["logits"], axes=[2, 3], keepdims=0)],
        weights,
    )
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 2
    assert _stem(model).cuts == ("input", "c1")


def test_per_channel_constants_stay_in_the_stem():
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"]),
        helper.make_node("Mul", ["c1", "scale"], ["x"]),
        helper.make_node("Clip", ["x", "low", "high"], ["y"]),
    ]
    head, weights = _head("y", 2 * 12 * 12)
    weights |= {
        "w1": np.ones((2, 2, 1, 1)),
        "scale": np.ones((2, 1, 1)),
        "low": np.zeros(()),
        "high": np.ones(()),
    }
    assert _stem(_model(nodes + head, weights)).cuts == ("input", "c1", "x", "y")


@pytest.mark.parametrize(
    "name", ["mnist_cnn", "resnet_tiny", "mobilenet_v2_tiny", "inception_tiny"]
)
def test_moving_one_input_pixel_changes_each_cut_only_within_its_footprint(name):
    net = make_net(name)
    model = export_onnx(net)
    stem = _stem(model)
    cuts = stem.cuts[1:]
    assert cuts, "the zoo nets start with a stem"
    taps = running(model).taps
    rng = np.random.default_rng(0)
    image = rng.normal(0, 1, (1, *net.input_shape)).astype(np.float32)
    _, before = taps.run(image, cuts)
    height, width = net.input_shape[1:]
    for y, x in [(0, 0), (height // 2, width // 3), (height - 1, width - 1)]:
        moved = image.copy()
        moved[0, :, y, x] += 5.0
        _, after = taps.run(moved, cuts)
        for cut in cuts:
            changed = np.abs(after[cut] - before[cut]).max(axis=(0, 1)) > 0  # (h, w)
            footprint = stem.footprint("input", cut)
            size = stem.spatial(cut)
            rows = Span(np.array([y]), np.array([y])).reached(
                footprint.stride[0], footprint.low[0], footprint.high[0], size[0]
            )
            cols = Span(np.array([x]), np.array([x])).reached(
                footprint.stride[1], footprint.low[1], footprint.high[1], size[1]
            )
            inside = np.zeros_like(changed)
            inside[rows.first[0] : rows.last[0] + 1, cols.first[0] : cols.last[0] + 1] = True
            assert changed.any(), cut
            assert not (changed & ~inside).any(), f"{cut}: a change outside its footprint"
