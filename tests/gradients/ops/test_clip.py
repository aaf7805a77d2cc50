"""Clip backward against torch autograd: bounds as inputs (either may be missing) or, before
opset 11, as attributes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from app.gradients import build_explain_graph, gradient_nodes
from tests.gradients.reference import (
    assert_activation_matches,
    assert_gradient_matches,
    constant,
    op_model,
    random_input,
)

# (id, onnx node, constants, torch function)
CASES = [
    ("relu6", helper.make_node("Clip", ["x", "lo", "hi"], ["y"]),
     {"lo": np.float32(0.0), "hi": np.float32(0.5)}, lambda x: F.hardtanh(x, 0.0, 0.5)),
    ("min_only", helper.make_node("Clip", ["x", "lo"], ["y"]), {"lo": np.float32(-0.3)},
     lambda x: torch.clamp(x, min=-0.3)),
    ("max_only", helper.make_node("Clip", ["x", "", "hi"], ["y"]), {"hi": np.float32(0.4)},
     lambda x: torch.clamp(x, max=0.4)),
    ("unbounded", helper.make_node("Clip", ["x"], ["y"]), {}, lambda x: x * 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("node", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_clip_gradient_matches_torch(node, constants, reference):
    assert_activation_matches(node, constants, reference)


def test_clip_with_attribute_bounds_matches_torch():
    node = helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=0.5)
    model = op_model([node], ["N", 6], opset=6)
    assert_gradient_matches(model, lambda x: F.hardtanh(x, -0.5, 0.5), random_input((3, 6)))


def test_relu6_exactly_at_its_bounds_passes_no_gradient_as_torch():
    """Saturated ReLU6 units sit exactly at 0 or 6 (after a ReLU6 the next depthwise conv
    of a zero window gives exact zeros); hardtanh's backward passes nothing there."""
    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    model = op_model([node], ["N", 6], {"lo": np.float32(0.0), "hi": np.float32(6.0)})
    x = np.array([[0.0, 6.0, 3.0, -1.0, 7.0, 1e-7], [6.0, 0.0, 5.999, 2.0, 0.0, 6.0]], np.float32)
    assert_gradient_matches(model, lambda t: F.relu6(t), x)


def test_clip_backward_reads_only_the_clip_output_so_a_conv_and_clip_stay_fusable():
    """onnxruntime fuses Conv+Clip only when nothing else reads the Conv's output."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c", "lo", "hi"], ["y"]),
    ]
    constants = {"w": constant((4, 3, 3, 3)), "lo": np.float32(0.0), "hi": np.float32(6.0)}
    model = op_model(nodes, ["N", 3, 6, 6], constants)
    backward = gradient_nodes(build_explain_graph(model))[2:]
    assert not [n.op_type for n in backward if "c" in n.input]
    x = random_input((2, 3, 6, 6)) * 4

    def reference(t):
        return F.relu6(F.conv2d(t, torch.tensor(constants["w"], dtype=t.dtype), padding=1))

    assert_gradient_matches(model, reference, x)


def test_clip_with_one_element_bound_tensors_masks_like_scalar_bounds():
    """Bounds stored as 1-element tensors, as some exporters write them, are constants too."""
    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    bounds = {"lo": np.array([0.0], np.float32), "hi": np.array([6.0], np.float32)}
    model = op_model([node], ["N", 8], bounds)
    emitted = {n.op_type for n in gradient_nodes(build_explain_graph(model))}
    assert "HardSigmoid" in emitted and "Greater" not in emitted
    x = np.array([[-1.0, 0.0, 1e-40, 3.0, 6.0, 7.0, 5.999999, 0.5]], np.float32)
    assert_gradient_matches(model, lambda t: F.hardtanh(t, 0.0, 6.0), x)
