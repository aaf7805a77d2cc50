"""AveragePool backward against torch autograd: pads counted or not, ceil mode."""

import pytest
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph
from app.gradients.errors import UnsupportedOpError
from tests.gradients.reference import assert_gradient_matches, op_model, random_input

# (id, onnx attributes, torch kwargs, x shape)
AVG_POOL_CASES = [
    ("2x2", {"kernel_shape": [2, 2], "strides": [2, 2]}, {"kernel_size": 2}, (2, 3, 8, 8)),
    ("overlapping", {"kernel_shape": [3, 3], "strides": [2, 2]},
     {"kernel_size": 3, "stride": 2}, (2, 3, 9, 9)),
    ("pad_counted", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1},
     {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": True}, (2, 2, 6, 6)),
    ("pad_not_counted", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]},
     {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}, (2, 2, 6, 6)),
    ("ceil_mode", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
     {"kernel_size": 3, "stride": 2, "ceil_mode": True, "count_include_pad": False}, (2, 3, 8, 8)),
    ("ceil_mode_pad_counted",
     {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1,
      "count_include_pad": 1},
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True},
     (2, 3, 8, 8)),
    ("ceil_mode_pad_not_counted",
     {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
     (2, 3, 8, 8)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("attrs", "kwargs", "x_shape"),
    [c[1:] for c in AVG_POOL_CASES],
    ids=[c[0] for c in AVG_POOL_CASES],
)
def test_average_pool_gradient_matches_torch(attrs, kwargs, x_shape):
    node = helper.make_node("AveragePool", ["x"], ["y"], **attrs)
    model = op_model([node], ["N", *x_shape[1:]])
    assert_gradient_matches(model, lambda x: F.avg_pool2d(x, **kwargs), random_input(x_shape))


def test_average_pool_whose_static_shape_counts_a_window_the_runtime_drops_is_refused():
    """ceil_mode's last window would start in the end padding: onnxruntime drops it, opset 17's
    shape inference keeps it, so the divisors and the rules after the pool would be off."""
    nodes = [
        helper.make_node("AveragePool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                         pads=[1, 1, 1, 1], ceil_mode=1),
        helper.make_node("GlobalAveragePool", ["p"], ["g"]),
        helper.make_node("Flatten", ["g"], ["y"]),
    ]  # fmt: skip
    with pytest.raises(UnsupportedOpError, match="ceil_mode"):
        build_explain_graph(op_model(nodes, ["N", 3, 7, 9]))
