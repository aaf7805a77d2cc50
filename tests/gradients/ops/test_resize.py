"""Resize backward against torch autograd: nearest and (bi)linear upsampling as torch exports
them (scales at opset 17, sizes, align_corners), a non-integer scale, and opset 18 axes."""

import numpy as np
import pytest
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input

NO_ROI = np.zeros(0, np.float32)

# (id, attributes, scales or None, sizes or None, torch interpolate kwargs)
CASES = [
    ("nearest_x2", {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                    "nearest_mode": "floor"}, [1, 1, 2, 2], None,
     {"scale_factor": 2, "mode": "nearest"}),
    ("bilinear_x2", {"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"},
     [1, 1, 2, 2], None, {"scale_factor": 2, "mode": "bilinear"}),
    ("bilinear_align_corners",
     {"mode": "linear", "coordinate_transformation_mode": "align_corners"},
     None, [2, 3, 9, 11], {"size": (9, 11), "mode": "bilinear", "align_corners": True}),
    ("bilinear_x4_odd", {"mode": "linear", "coordinate_transformation_mode": "half_pixel"},
     [1, 1, 4, 4], None, {"scale_factor": 4, "mode": "bilinear"}),
    ("nearest_to_size", {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                         "nearest_mode": "floor"}, None, [2, 3, 7, 12],
     {"size": (7, 12), "mode": "nearest"}),
    ("bicubic", {"mode": "cubic", "coordinate_transformation_mode": "pytorch_half_pixel",
                 "cubic_coeff_a": -0.75}, [1, 1, 2, 2], None,
     {"scale_factor": 2, "mode": "bicubic"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("attrs", "scales", "sizes", "kwargs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_resize_gradient_matches_torch(attrs, scales, sizes, kwargs):
    constants = {"roi": NO_ROI}
    inputs = ["x", "roi"]
    if scales is not None:
        constants["scales"] = np.array(scales, np.float32)
        inputs.append("scales")
    else:
        constants["sizes"] = np.array(sizes, np.int64)
        inputs += ["", "sizes"]
    model = op_model(
        [helper.make_node("Resize", inputs, ["y"], **attrs)], ["N", 3, 5, 6], constants
    )
    assert_gradient_matches(model, lambda x: F.interpolate(x, **kwargs), random_input((2, 3, 5, 6)))


def test_resize_with_opset_18_axes_resizes_only_the_listed_axes():
    attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel", "axes": [3]}
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
    model = op_model([node], ["N", 3, 5, 6], {"scales": np.array([2.0], np.float32)}, opset=18)

    def reference(x):
        return F.interpolate(x, size=(5, 12), mode="bilinear")

    assert_gradient_matches(model, reference, random_input((2, 3, 5, 6)))
