"""Conv backward (ConvTranspose) against torch autograd, over its attribute variants."""

import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph, gradient_nodes
from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input

# (id, x shape, weight shape, onnx attributes, torch pads (left, right, top, bottom), bias)
CASES = [
    ("plain", (2, 3, 9, 9), (4, 3, 3, 3), {}, (0, 0, 0, 0), True),
    ("no_bias", (2, 3, 9, 9), (4, 3, 3, 3), {}, (0, 0, 0, 0), False),
    ("stride_2_odd", (2, 3, 9, 9), (4, 3, 3, 3), {"strides": [2, 2]}, (0, 0, 0, 0), True),
    ("stride_2_uneven", (2, 3, 10, 11), (4, 3, 3, 3), {"strides": [2, 3]}, (0, 0, 0, 0), True),
    ("pads", (1, 2, 8, 8), (3, 2, 3, 3), {"pads": [1, 1, 1, 1]}, (1, 1, 1, 1), True),
    ("pads_asym", (1, 2, 8, 8), (3, 2, 3, 3), {"pads": [0, 2, 1, 0]}, (2, 0, 0, 1), True),
    (
        "pads_asym_strided",
        (2, 2, 9, 8),
        (3, 2, 3, 2),
        {"pads": [2, 0, 0, 1], "strides": [2, 3]},
        (0, 1, 2, 0),
        True,
    ),
    ("same_upper", (1, 2, 8, 8), (3, 2, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
     (0, 1, 0, 1), True),
    ("same_lower", (1, 2, 8, 8), (3, 2, 3, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
     (1, 0, 1, 0), True),
    ("same_upper_stride_1", (1, 2, 7, 7), (3, 2, 4, 4), {"auto_pad": "SAME_UPPER"},
     (1, 2, 1, 2), False),
    ("valid", (1, 2, 8, 8), (3, 2, 3, 3), {"auto_pad": "VALID", "strides": [2, 2]},
     (0, 0, 0, 0), True),
    ("dilations", (2, 2, 11, 11), (3, 2, 3, 3), {"dilations": [2, 3], "pads": [1, 2, 1, 2]},
     (2, 2, 1, 1), True),
    ("groups", (2, 4, 8, 8), (6, 2, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}, (1, 1, 1, 1), True),
    ("depthwise", (2, 4, 8, 8), (4, 1, 3, 3), {"group": 4, "strides": [2, 2], "pads": [1, 1, 1, 1]},
     (1, 1, 1, 1), False),
    ("pointwise_strided", (2, 4, 7, 7), (5, 4, 1, 1), {"strides": [2, 2]}, (0, 0, 0, 0), True),
    # stride-1 convs with 8+ input channels per group, or depthwise: a Conv with flipped weights
    ("flipped_narrow", (2, 8, 7, 6), (5, 8, 3, 3), {"pads": [1, 0, 2, 1]}, (0, 1, 1, 2), True),
    ("flipped_depthwise", (2, 8, 9, 9), (8, 1, 5, 5), {"group": 8, "pads": [2, 2, 2, 2]},
     (2, 2, 2, 2), True),
    ("flipped_depthwise_dilated", (1, 8, 9, 10), (8, 1, 3, 3),
     {"group": 8, "dilations": [2, 1], "pads": [2, 0, 1, 1]}, (0, 1, 2, 1), False),
    ("wide_pads", (2, 64, 6, 6), (64, 64, 3, 3), {"pads": [1, 1, 1, 1]}, (1, 1, 1, 1), True),
    ("wide_pads_asym", (1, 64, 7, 6), (72, 64, 3, 2), {"pads": [0, 1, 2, 0]}, (1, 0, 0, 2), False),
    ("wide_dilations", (1, 64, 9, 9), (64, 64, 3, 3), {"dilations": [2, 3], "pads": [1, 2, 1, 2]},
     (2, 2, 1, 1), True),
    ("wide_groups", (1, 128, 6, 6), (192, 64, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]},
     (1, 1, 1, 1), True),
    ("wide_pads_past_reach", (1, 64, 5, 5), (64, 64, 1, 1), {"pads": [1, 1, 1, 1]},
     (1, 1, 1, 1), False),
    # strided depthwise with a large kernel: one Conv per stride phase (polyphase.py)
    ("phases_lite0", (2, 8, 14, 14), (8, 1, 5, 5), {"group": 8, "strides": [2, 2],
     "pads": [1, 1, 2, 2]}, (1, 2, 1, 2), True),
    ("phases_odd", (1, 8, 13, 11), (8, 1, 5, 5), {"group": 8, "strides": [2, 2],
     "pads": [2, 2, 2, 2]}, (2, 2, 2, 2), False),
    ("phases_stride_3", (2, 4, 17, 16), (4, 1, 7, 5), {"group": 4, "strides": [3, 3],
     "pads": [3, 0, 1, 2]}, (0, 2, 3, 1), True),
    ("phases_no_pads", (1, 4, 12, 15), (4, 1, 5, 6), {"group": 4, "strides": [2, 2]},
     (0, 0, 0, 0), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "attrs", "torch_pads", "bias"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_conv_input_gradient_matches_torch(x_shape, w_shape, attrs, torch_pads, bias):
    weight, b = constant(w_shape), constant((w_shape[0],), seed=2)
    inputs = ["x", "w", "b"] if bias else ["x", "w"]
    node = helper.make_node("Conv", inputs, ["y"], **attrs)
    constants = {"w": weight, "b": b} if bias else {"w": weight}
    model = op_model([node], ["N", *x_shape[1:]], constants)

    def reference(x):
        padded = F.pad(x, torch_pads)
        return F.conv2d(
            padded,
            torch.tensor(weight, dtype=x.dtype),
            torch.tensor(b, dtype=x.dtype) if bias else None,
            stride=attrs.get("strides", 1),
            dilation=attrs.get("dilations", 1),
            groups=attrs.get("group", 1),
        )

    assert_gradient_matches(model, reference, random_input(x_shape))


def test_conv_1d_input_gradient_matches_torch():
    weight = constant((3, 2, 3))
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2], pads=[1, 0])
    model = op_model([node], ["N", 2, 10], {"w": weight})

    def reference(x):
        return F.conv1d(F.pad(x, (1, 0)), torch.tensor(weight, dtype=x.dtype), stride=2)

    assert_gradient_matches(model, reference, random_input((2, 2, 10)))


@pytest.mark.parametrize(
    ("channels", "group", "strides", "expected"),
    [
        (64, 1, [1, 1], "Conv"),
        (8, 1, [1, 1], "Conv"),
        (3, 1, [1, 1], "ConvTranspose"),
        (32, 32, [1, 1], "Conv"),
        (64, 1, [2, 2], "ConvTranspose"),
        (32, 32, [2, 2], "ConvTranspose"),  # a 3x3 kernel: the phases lost to it
    ],
    ids=["wide", "eight", "image", "depthwise", "strided", "strided_depthwise"],
)
def test_conv_input_gradient_is_a_flipped_conv_for_stride_1_convs_unless_narrow(
    channels, group, strides, expected
):
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], strides=strides, pads=[1, 1, 1, 1], group=group
    )
    weight = constant((channels, channels // group, 3, 3))
    model = op_model([node], ["N", channels, 8, 8], {"w": weight})
    emitted = gradient_nodes(build_explain_graph(model))  # the forward Conv is the model's
    backward = [n for n in emitted if n.name.startswith("bw/")]
    assert [n.op_type for n in backward if "Conv" in n.op_type] == [expected]


def test_a_strided_conv_on_post_relu_zeros_with_a_dead_channel_matches_torch():
    """What real networks feed a conv: exact zeros after a ReLU, an odd size under stride 2
    with "same" pads, and an output channel whose folded weights are all zero."""
    weight = constant((5, 4, 3, 3))
    weight[2] = 0.0  # a zero-init (or pruned) channel
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Conv", ["r", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1]),
    ]
    model = op_model(nodes, ["N", 4, 11, 9], {"w": weight})

    def reference(x):
        return F.conv2d(F.relu(x), torch.tensor(weight, dtype=x.dtype), stride=2, padding=1)

    assert_gradient_matches(model, reference, random_input((2, 4, 11, 9)))
