"""Ops that move elements (Flatten ... Pad), BatchNormalization, Dropout and Identity."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import helper

from tests.gradients.reference import assert_gradient_matches, constant, op_model, random_input

I64 = np.int64
SCALE, BIAS, MEAN = constant((3,)), constant((3,), 2), constant((3,), 3)
VAR = np.abs(constant((3,), 4)) + 0.5
BIG = np.iinfo(np.int64).max


def _node(op, inputs=("x",), **attrs):
    return helper.make_node(op, list(inputs), ["y"], **attrs)


# (id, nodes, constants, torch function) on x of shape (2, 3, 4, 5)
CASES = [
    ("flatten", [_node("Flatten")], {}, lambda x: x.flatten(1)),
    ("flatten_axis_2", [_node("Flatten", axis=2)], {}, lambda x: x.reshape(6, 20)),
    ("reshape", [_node("Reshape", ["x", "s"])], {"s": np.array([0, -1, 2], I64)},
     lambda x: x.reshape(2, 30, 2)),
    ("transpose", [_node("Transpose", perm=[0, 2, 3, 1])], {}, lambda x: x.permute(0, 2, 3, 1)),
    ("transpose_default", [_node("Transpose")], {}, lambda x: x.permute(3, 2, 1, 0)),
    ("squeeze", [helper.make_node("ReduceSum", ["x", "a"], ["r"]), _node("Squeeze", ["r", "a"])],
     {"a": np.array([1], I64)}, lambda x: x.sum(1)),
    ("unsqueeze", [_node("Unsqueeze", ["x", "a"])], {"a": np.array([1, -1], I64)},
     lambda x: x[:, None, ..., None]),
    ("slice", [_node("Slice", ["x", "s", "e", "a"])],
     {"s": np.array([1, 0], I64), "e": np.array([3, -1], I64), "a": np.array([2, 3], I64)},
     lambda x: x[:, :, 1:3, 0:-1]),
    ("slice_steps", [_node("Slice", ["x", "s", "e", "a", "p"])],
     {"s": np.array([0, 4], I64), "e": np.array([BIG, -BIG], I64),
      "a": np.array([1, 3], I64), "p": np.array([2, -2], I64)},
     lambda x: x[:, ::2].flip(3)[..., ::2]),
    ("slice_default_axes", [_node("Slice", ["x", "s", "e"])],
     {"s": np.array([0, 1, 1], I64), "e": np.array([BIG, 3, 4], I64)},
     lambda x: x[:, 1:3, 1:4]),
    ("pad", [_node("Pad", ["x", "p"])], {"p": np.array([0, 0, 1, 2, 0, 1, 3, 0], I64)},
     lambda x: F.pad(x, (2, 0, 1, 3, 0, 1))),
    ("pad_negative", [_node("Pad", ["x", "p"])], {"p": np.array([0, 0, -1, 2, 0, 0, 1, -2], I64)},
     lambda x: F.pad(x, (2, -2, -1, 1))),
    ("pad_value", [_node("Pad", ["x", "p", "v"])],
     {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], I64), "v": np.float32(2.0)},
     lambda x: F.pad(x, (1, 1, 1, 1), value=2.0)),
    ("concat", [helper.make_node("Relu", ["x"], ["r"]), _node("Concat", ["x", "w", "r"], axis=2)],
     {"w": constant((2, 3, 1, 5))},
     lambda x: torch.cat([x, torch.tensor(constant((2, 3, 1, 5)), dtype=x.dtype), F.relu(x)], 2)),
    ("concat_batch_axis", [_node("Concat", ["x", "x"], axis=0)], {}, lambda x: torch.cat([x, x])),
    ("split", [helper.make_node("Split", ["x", "s"], ["a", "b", "c"], axis=3),
               helper.make_node("Mul", ["a", "k"], ["ak"]), _node("Concat", ["c", "ak"], axis=3)],
     {"s": np.array([2, 1, 2], I64), "k": np.float32(3.0)},
     lambda x: torch.cat([x[..., 3:], 3 * x[..., :2]], 3)),
    ("batch_norm", [_node("BatchNormalization", ["x", "g", "b", "m", "v"], epsilon=1e-3)],
     {"g": SCALE, "b": BIAS, "m": MEAN, "v": VAR},
     lambda x: F.batch_norm(x, *(torch.tensor(a, dtype=x.dtype) for a in (MEAN, VAR, SCALE, BIAS)),
                            eps=1e-3)),
    ("dropout", [helper.make_node("Dropout", ["x"], ["y", "mask"], )], {}, lambda x: x * 1),
    ("identity", [_node("Identity")], {}, lambda x: x * 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "constants", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_data_movement_gradient_matches_torch(nodes, constants, reference):
    model = op_model(nodes, ["N", 3, 4, 5], constants)
    assert_gradient_matches(model, reference, random_input((2, 3, 4, 5)))
