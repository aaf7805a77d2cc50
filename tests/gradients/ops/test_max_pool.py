"""MaxPool backward against torch autograd: kernels, strides, pads, ceil mode, dilations
and ties, on both routes (by comparison, app/gradients/first_maxima.py, and through
Indices)."""

from math import inf

import numpy as np
import pytest
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph, first_maxima
from app.gradients.errors import UnsupportedOpError
from tests.gradients.reference import assert_gradient_matches, op_model, random_input

# (id, onnx attributes, torch kwargs, x shape)
MAX_POOL_CASES = [
    ("2x2", {"kernel_shape": [2, 2], "strides": [2, 2]}, {"kernel_size": 2}, (2, 3, 8, 8)),
    ("overlapping_3x3_s2", {"kernel_shape": [3, 3], "strides": [2, 2]},
     {"kernel_size": 3, "stride": 2}, (2, 3, 9, 9)),
    ("overlapping_s1", {"kernel_shape": [3, 3]}, {"kernel_size": 3, "stride": 1}, (1, 2, 6, 6)),
    ("padded", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
     {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 8, 8)),
    ("ceil_mode", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
     {"kernel_size": 3, "stride": 2, "ceil_mode": True}, (2, 3, 8, 8)),
    ("rectangular", {"kernel_shape": [2, 3], "strides": [1, 2]},
     {"kernel_size": (2, 3), "stride": (1, 2)}, (2, 2, 7, 9)),
    ("dilated", {"kernel_shape": [2, 2], "dilations": [2, 2]},
     {"kernel_size": 2, "stride": 1, "dilation": 2}, (1, 2, 7, 7)),
    ("2x2_odd_size", {"kernel_shape": [2, 2], "strides": [2, 2]}, {"kernel_size": 2}, (2, 3, 9, 7)),
    ("2x2_ceil_mode", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
     {"kernel_size": 2, "ceil_mode": True}, (2, 3, 9, 7)),
    ("2x2_padded", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]},
     {"kernel_size": 2, "padding": 1}, (2, 3, 8, 7)),
    ("gapped_2x2_s3", {"kernel_shape": [2, 2], "strides": [3, 3]}, {"kernel_size": 2, "stride": 3},
     (1, 2, 8, 8)),
    ("4x4_s2_padded", {"kernel_shape": [4, 4], "strides": [2, 2], "pads": [1, 2, 2, 1]},
     None, (2, 3, 11, 10)),
    ("3x3_s1_same", {"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER"},
     {"kernel_size": 3, "stride": 1, "padding": 1}, (2, 2, 7, 9)),
    ("5x5_by_indices", {"kernel_shape": [5, 5], "strides": [2, 2]}, {"kernel_size": 5, "stride": 2},
     (1, 2, 11, 11)),
    ("one_padded_row", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]},
     {"kernel_size": 2, "padding": 1}, (2, 3, 1, 6)),
]  # fmt: skip

# Pools whose last ceil_mode window would start in the end padding, which onnxruntime and
# torch drop but shape inference before opset 22 counts: (id, onnx attributes, torch kwargs,
# x shape)
DROPPED_WINDOW_CASES = [
    ("2x2_padded", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]},
     {"kernel_size": 2, "padding": 1}, (2, 3, 7, 9)),
    ("gapped_2x2_s3", {"kernel_shape": [2, 2], "strides": [3, 3]}, {"kernel_size": 2, "stride": 3},
     (2, 3, 7, 9)),
    ("1x1_s2", {"kernel_shape": [1, 1], "strides": [2, 2]}, {"kernel_size": 1, "stride": 2},
     (2, 3, 8, 6)),
    ("valid_1x1_s2", {"kernel_shape": [1, 1], "strides": [2, 2], "auto_pad": "VALID"},
     {"kernel_size": 1, "stride": 2}, (1, 2, 6, 7)),
]  # fmt: skip


@pytest.fixture(params=["by_comparison", "through_indices"])
def route(request, monkeypatch):
    """Runs a test on both routes: the size from which pools are routed by comparison set so
    that every eligible pool is, or none."""
    smallest = 0 if request.param == "by_comparison" else 2**62
    monkeypatch.setattr(first_maxima, "MIN_ELEMENTS", smallest)
    return request.param


@pytest.mark.parametrize(
    ("attrs", "kwargs", "x_shape"),
    [c[1:] for c in MAX_POOL_CASES],
    ids=[c[0] for c in MAX_POOL_CASES],
)
def test_max_pool_gradient_matches_torch(attrs, kwargs, x_shape, route):
    model = op_model([helper.make_node("MaxPool", ["x"], ["y"], **attrs)], ["N", *x_shape[1:]])
    assert_gradient_matches(model, torch_pool(attrs, kwargs), random_input(x_shape))


def torch_pool(attrs, kwargs):
    """torch's pool for the ONNX attributes; kwargs None: asymmetric pads, applied by F.pad
    with -inf first (torch's padding is symmetric)."""
    if kwargs is not None:
        return lambda x: F.max_pool2d(x, **kwargs)
    top, left, bottom, right = attrs["pads"]
    kernel, stride = attrs["kernel_shape"], attrs["strides"]
    return lambda x: F.max_pool2d(F.pad(x, (left, right, top, bottom), value=-inf), kernel, stride)


@pytest.mark.parametrize(
    ("attrs", "channels", "by_comparison"),
    [
        ({"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, 4, True),
        ({"kernel_shape": [2, 2], "strides": [2, 2]}, 4, True),
        ({"kernel_shape": [2, 2], "strides": [2, 2]}, 3, False),  # a map under MIN_ELEMENTS
        ({"kernel_shape": [5, 5], "strides": [2, 2]}, 4, False),  # more than MAX_OFFSETS
        ({"kernel_shape": [2, 3], "strides": [1, 2]}, 4, False),  # two strides
        ({"kernel_shape": [2, 2], "dilations": [2, 2]}, 4, False),
    ],
)
def test_small_windows_on_large_maps_find_their_maxima_by_comparison_not_through_indices(
    attrs, channels, by_comparison
):
    model = op_model(
        [helper.make_node("MaxPool", ["x"], ["y"], **attrs)], ["N", channels, 128, 128]
    )
    backward = build_explain_graph(model, []).model.graph.node[len(model.graph.node) :]
    with_indices = [n for n in backward if n.op_type == "MaxPool" and len(n.output) == 2]
    assert (not with_indices) == by_comparison
    assert first_maxima.MIN_ELEMENTS == 4 * 128 * 128  # the default: 4 channels just reach it


def dropped_window_model(attrs, x_shape, opset):
    """MaxPool (ceil_mode) -> GlobalAveragePool -> Flatten, whose logits' shape inference
    gets right whatever it counts for the pool (as in a network)."""
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p"], ceil_mode=1, **attrs),
        helper.make_node("GlobalAveragePool", ["p"], ["g"]),
        helper.make_node("Flatten", ["g"], ["y"]),
    ]
    return op_model(nodes, ["N", *x_shape[1:]], opset=opset)


@pytest.mark.parametrize(
    ("attrs", "kwargs", "x_shape"),
    [c[1:] for c in DROPPED_WINDOW_CASES],
    ids=[c[0] for c in DROPPED_WINDOW_CASES],
)
def test_max_pool_whose_last_ceil_window_would_start_in_the_end_padding_matches_torch(
    attrs, kwargs, x_shape, route
):
    model = dropped_window_model(attrs, x_shape, opset=22)  # shape inference drops it too

    def reference(t):
        return F.adaptive_avg_pool2d(F.max_pool2d(t, ceil_mode=True, **kwargs), 1).flatten(1)

    assert_gradient_matches(model, reference, random_input(x_shape))


@pytest.mark.parametrize(
    ("attrs", "x_shape"),
    [(c[1], c[3]) for c in DROPPED_WINDOW_CASES],
    ids=[c[0] for c in DROPPED_WINDOW_CASES],
)
def test_max_pool_whose_static_shape_counts_a_window_the_runtime_drops_is_refused(
    attrs, x_shape, route
):
    """Opset 17's shape inference keeps the window: the rules after the pool would read a
    map one window larger than the runtime's (a wrong average, not an error)."""
    with pytest.raises(UnsupportedOpError, match="ceil_mode"):
        build_explain_graph(dropped_window_model(attrs, x_shape, opset=17))


@pytest.mark.parametrize(
    ("kernel", "stride", "pad"), [(3, 2, 1), (2, 2, 0), (3, 1, 1)], ids=["3x3_s2", "2x2", "3x3_s1"]
)
def test_max_pool_of_ties_sends_the_gradient_to_the_first_maximum_as_torch(
    kernel, stride, pad, route
):
    attrs = {"kernel_shape": [kernel] * 2, "strides": [stride] * 2, "pads": [pad] * 4}
    model = op_model([helper.make_node("MaxPool", ["x"], ["y"], **attrs)], ["N", 2, 6, 6])
    x = np.round(random_input((2, 2, 6, 6))).clip(0, 1)  # many equal values

    def reference(t):
        return F.max_pool2d(t, kernel, stride, pad)

    assert_gradient_matches(model, reference, x)


def test_max_pool_of_a_relu_output_with_all_zero_windows_matches_torch(route):
    """ResNet's stem: a 3x3 stride-2 pool with pads over ReLU outputs, where whole windows are
    exact zeros (ties everywhere) and the size is odd."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
    ]  # fmt: skip
    model = op_model(nodes, ["N", 3, 9, 11])
    x = random_input((2, 3, 9, 11)) - 1.0  # mostly negative: most windows all zeros

    def reference(t):
        return F.max_pool2d(F.relu(t), 3, 2, 1)

    assert_gradient_matches(model, reference, x)
