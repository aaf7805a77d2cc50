"""ReduceMean backward against torch autograd: axes as an attribute (opset 17) or an input
(opset 18), kept or dropped."""

import numpy as np
import pytest
import torch
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


@pytest.mark.parametrize("axes", [[2, 3], [1], [-1], None], ids=str)
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("opset", [17, 18])
def test_reduce_mean_gradient_matches_torch(axes, keepdims, opset):
    constants, inputs, attrs = {}, ["x"], {"keepdims": keepdims}
    if axes is not None and opset >= 18:
        constants["axes"] = np.array(axes, dtype=np.int64)
        inputs.append("axes")
    elif axes is not None:
        attrs["axes"] = axes
    node = helper.make_node("ReduceMean", inputs, ["y"], **attrs)
    model = op_model([node], ["N", 3, 4, 5], constants, opset=opset)
    dims = tuple(axes) if axes is not None else (0, 1, 2, 3)

    def reference(x):
        return torch.mean(x, dim=dims, keepdim=bool(keepdims))

    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))
