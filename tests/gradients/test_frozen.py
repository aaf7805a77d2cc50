"""The frozen forward: the model itself at its base input, and on the base's branches
around it, so central differences see no kink."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from onnx import helper
from torch import nn

from app.gradients import build_explain_graph
from app.gradients.frozen import FREEZE_RULES, build_frozen_forward
from app.gradients.session import FrozenForwardSession
from tests.gradients.sessions import explain_session, frozen_session
from tests.nets import export_onnx


class Kinky(nn.Module):
    """Every op the frozen forward freezes, one after the other."""

    input_shape = (2, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.prelu = nn.PReLU(4, init=0.2)
        self.head = nn.Linear(4 * 2 * 2 + 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv(x))
        y = F.leaky_relu(y - 0.3, 0.1) + F.relu6(3 * y) + F.hardswish(4 * y - 1)
        y = self.prelu(F.hardsigmoid(y / 2 - 1) - 0.5)  # each op mostly off its flat parts
        pooled = F.max_pool2d(y, 3, 2, 1)  # (N, 4, 4, 4)
        corners = F.max_pool2d(pooled, 2)  # (N, 4, 2, 2)
        return self.head(torch.cat([corners.flatten(1), pooled.amax(dim=(2, 3))], dim=1))


def _model() -> onnx.ModelProto:
    """Kinky, with its channel maximum as the GlobalMaxPool it is in other exports."""
    torch.manual_seed(0)
    model = export_onnx(Kinky().eval())
    for node in model.graph.node:
        if node.op_type == "ReduceMax":  # ReduceMax(axes 2, 3, keepdims 0) -> GlobalMaxPool
            source, out = node.input[0], node.output[0]
            pooled = helper.make_node("GlobalMaxPool", [source], [out + ":pooled"])
            flat = helper.make_node("Flatten", [out + ":pooled"], [out])
            index = list(model.graph.node).index(node)
            model.graph.node.remove(node)
            model.graph.node.insert(index, flat)
            model.graph.node.insert(index, pooled)
    return model


def _frozen(model: onnx.ModelProto) -> FrozenForwardSession:
    return frozen_session(build_frozen_forward(model))


def test_the_example_network_uses_every_freeze_rule():
    used = {node.op_type for node in _model().graph.node}
    assert set(FREEZE_RULES) <= used


def test_at_its_base_input_the_frozen_forward_is_the_model():
    model = _model()
    x = np.random.default_rng(0).standard_normal((3, 2, 8, 8)).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {"input": x})
    np.testing.assert_allclose(_frozen(model).run(x, x), expected, rtol=1e-5, atol=1e-5)


def test_on_the_base_branches_a_piecewise_linear_network_is_linear_along_any_line():
    model = _model()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    v = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    steps = np.array([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=np.float32)
    points = (x[None] + steps[:, None, None, None, None] * v[None]).reshape(-1, 2, 8, 8)
    frozen = _frozen(model).run(points, x).reshape(5, 2, 3).astype(np.float64)
    # without HardSwish's quadratic middle the network would be linear: second differences
    # are those of a quadratic in the step, constant along the line
    second = frozen[2:] - 2 * frozen[1:-1] + frozen[:-2]
    np.testing.assert_allclose(second[0], second[-1], atol=1e-4)


def test_central_differences_of_the_frozen_forward_give_the_explain_graph_gradient():
    model = _model()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    v = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    seed = rng.standard_normal((2, 3)).astype(np.float32)
    gradient = explain_session(build_explain_graph(model)).run(x, seed).required_input_grad()
    step = 1e-2
    ahead, behind = (_frozen(model).run(x + s * v, x) for s in (step, -step))
    slope = ((ahead - behind).astype(np.float64) * seed).sum(axis=1) / (2 * step)
    predicted = (gradient * v).reshape(2, -1).sum(axis=1)
    np.testing.assert_allclose(slope, predicted, rtol=1e-3)
