"""app/gradients/polyphase.py: which convs take the phases, and the phases' gradient against
torch autograd where a phase's pads are at their limits (tests/gradients/ops/test_conv.py has
the geometries of real models)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph, gradient_nodes, polyphase
from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input


def _geometry(kernel, strides, group, dilations=(1, 1)) -> dict:
    return {"kernel": list(kernel), "strides": list(strides), "dilations": list(dilations),
            "pads": [0, 0, 0, 0], "group": group}  # fmt: skip


@pytest.mark.parametrize(
    ("weight_shape", "geometry", "expected"),
    [
        ((8, 1, 5, 5), _geometry((5, 5), (2, 2), 8), True),
        ((8, 1, 3, 3), _geometry((3, 3), (2, 2), 8), False),  # small kernel
        ((8, 1, 5, 5), _geometry((5, 5), (1, 1), 8), False),  # stride 1: a flipped Conv
        ((8, 1, 5, 5), _geometry((5, 5), (2, 1), 8), False),  # two strides
        ((8, 2, 5, 5), _geometry((5, 5), (2, 2), 4), False),  # not depthwise
        ((8, 1, 5, 5), _geometry((5, 5), (2, 2), 8, (2, 2)), False),  # dilated
    ],
    ids=["depthwise_5x5", "3x3", "stride_1", "two_strides", "grouped", "dilated"],
)
def test_only_strided_depthwise_convs_with_a_large_kernel_take_the_phases(
    weight_shape, geometry, expected
):
    assert polyphase.applies(np.zeros(weight_shape, np.float32), geometry) is expected
    assert not polyphase.applies(None, geometry)


def _depthwise(x_shape, kernel, stride, pads):
    channels = x_shape[1]
    weight = constant((channels, 1, *kernel))
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], group=channels, strides=[stride] * 2, pads=pads
    )
    return op_model([node], ["N", *x_shape[1:]], {"w": weight}), weight


@pytest.mark.parametrize(
    ("x_shape", "kernel", "stride", "pads"),
    [
        ((2, 3, 10, 10), (5, 5), 2, [4, 4, 4, 4]),  # pads as large as Conv allows
        ((1, 3, 11, 9), (5, 7), 2, [0, 6, 4, 0]),
        ((1, 2, 9, 9), (5, 5), 5, [0, 0, 0, 0]),  # stride = kernel: one tap per phase
        ((1, 2, 6, 6), (5, 5), 2, [1, 1, 1, 1]),  # one output row and column... and a half
    ],
    ids=["largest_pads", "mixed", "stride_of_the_kernel", "tiny"],
)
def test_the_phases_give_torch_autograds_gradient(x_shape, kernel, stride, pads):
    model, weight = _depthwise(x_shape, kernel, stride, pads)
    emitted = [
        n.op_type for n in gradient_nodes(build_explain_graph(model)) if n.name.startswith("bw/")
    ]
    assert "ConvTranspose" not in emitted and emitted.count("Conv") == stride * stride

    def reference(x):
        padded = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        w = torch.tensor(weight, dtype=x.dtype)
        return F.conv2d(padded, w, stride=stride, groups=x_shape[1])

    assert_gradient_matches(model, reference, random_input(x_shape))
