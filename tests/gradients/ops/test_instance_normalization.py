"""InstanceNormalization backward against torch autograd, alone and as the GroupNorm with one
group that PoolFormer uses (Reshape, InstanceNormalization, Reshape, scale, shift)."""

import numpy as np
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input


def test_instance_normalization_gradient_matches_torch():
    scale, bias = constant((3,)) + 1, constant((3,), seed=2)
    node = helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-5)
    model = op_model([node], ["N", 3, 4, 5], {"s": scale, "b": bias})

    def reference(x):
        return F.instance_norm(x, weight=torch.tensor(scale, dtype=x.dtype),
                               bias=torch.tensor(bias, dtype=x.dtype), eps=1e-5)  # fmt: skip

    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))


def test_group_norm_with_one_group_matches_torch():
    weight, shift = constant((3,)) + 1, constant((3,), seed=2)
    nodes = [
        helper.make_node("Reshape", ["x", "grouped"], ["g"]),
        helper.make_node("InstanceNormalization", ["g", "ones", "zeros"], ["n"], epsilon=1e-5),
        helper.make_node("Reshape", ["n", "back"], ["r"]),
        helper.make_node("Mul", ["r", "w"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["y"]),
    ]
    constants = {
        "grouped": np.array([0, 1, -1], dtype=np.int64),
        "back": np.array([0, 3, 4, 5], dtype=np.int64),
        "ones": np.ones(1, np.float32), "zeros": np.zeros(1, np.float32),
        "w": weight.reshape(3, 1, 1), "b": shift.reshape(3, 1, 1),
    }  # fmt: skip
    model = op_model(nodes, ["N", 3, 4, 5], constants)

    def reference(x):
        return F.group_norm(x, 1, torch.tensor(weight, dtype=x.dtype),
                            torch.tensor(shift, dtype=x.dtype), eps=1e-5)  # fmt: skip

    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))
