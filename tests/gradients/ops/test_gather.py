"""Gather backward against torch autograd: a ViT's class token (scalar index), a list of
indices with repeats and negatives, and a gather along the last axis."""

import numpy as np
import pytest
import torch
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input

# (id, indices, axis)
CASES = [
    ("class_token", np.array(0, dtype=np.int64), 1),
    ("repeats_and_negatives", np.array([[3, -1], [0, 3]], dtype=np.int64), 1),
    ("last_axis", np.array([5, 0, 2], dtype=np.int64), 2),
]


@pytest.mark.parametrize(("indices", "axis"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gather_gradient_matches_torch(indices, axis):
    node = helper.make_node("Gather", ["x", "i"], ["y"], axis=axis)
    model = op_model([node], ["N", 5, 6], {"i": indices})
    index = torch.tensor(indices % (5, 6)[axis - 1])

    def reference(x):
        picked = torch.index_select(x, axis, index.reshape(-1))
        return picked.reshape(*x.shape[:axis], *index.shape, *x.shape[axis + 1 :])

    assert_gradient_matches(model, reference, random_input((2, 5, 6)))


def test_gather_with_indices_computed_at_run_time_matches_torch():
    """Indices from the batch size (as the dynamo exporter's as_strided writes them): with
    N = 2 they are [0, 1, 4, -1], a repeat included."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], start=0, end=1),
        helper.make_node("Squeeze", ["shape"], ["batch"]),
        helper.make_node("Range", ["zero", "batch", "one"], ["first"]),
        helper.make_node("Concat", ["first", "last"], ["picks"], axis=0),
        helper.make_node("Gather", ["x", "picks"], ["y"], axis=1),
    ]
    constants = {
        "zero": np.array(0, np.int64), "one": np.array(1, np.int64),
        "last": np.array([4, -1], np.int64),
    }  # fmt: skip
    model = op_model(nodes, ["N", 5, 6], constants)

    def reference(x):
        return torch.index_select(x, 1, torch.tensor([0, 1, 4, 4]))

    assert_gradient_matches(model, reference, random_input((2, 5, 6)))
