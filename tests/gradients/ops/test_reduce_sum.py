"""ReduceSum backward against torch autograd: axes as an input, kept or dropped."""

import numpy as np
import pytest
import torch
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


@pytest.mark.parametrize("axes", [[2, 3], [0], None], ids=str)
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_sum_gradient_matches_torch(axes, keepdims):
    constants, inputs = {}, ["x"]
    if axes is not None:
        constants["axes"] = np.array(axes, dtype=np.int64)
        inputs.append("axes")
    node = helper.make_node("ReduceSum", inputs, ["y"], keepdims=keepdims)
    model = op_model([node], ["N", 3, 4, 5], constants)
    dims = tuple(axes) if axes is not None else (0, 1, 2, 3)
    reference = lambda x: torch.sum(x, dim=dims, keepdim=bool(keepdims))  # noqa: E731
    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))
