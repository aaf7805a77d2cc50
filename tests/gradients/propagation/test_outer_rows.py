"""Under a propagation rule the outer graph's forward and gradient passes run on an empty
batch (one row where onnxruntime could not run an empty one), and the outputs, logits and
layer activations too, are the chosen branch's."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from app.gradients import build_explain_graph
from app.gradients.analysis import collect_facts, prepare
from app.gradients.context import BackwardContext
from app.gradients.propagation import Propagation, PropagationRule
from app.gradients.propagation.outer_rows import runs_empty
from tests.explain.propagation_reference import onnx_of
from tests.gradients.sessions import explain_session
from tests.nets import export_onnx, make_net

NETS = ("mnist_cnn", "lenet5", "resnet_tiny", "mobilenet_v2_tiny", "inception_tiny",
        "alexnet_tiny")  # fmt: skip


def _runs_empty(model: onnx.ModelProto) -> bool:
    prepared = prepare(model)
    facts, _ = collect_facts(prepared.graph)
    return runs_empty(BackwardContext(facts, "relu_rule"), prepared.graph.node)


class ViewFlatten(nn.Module):
    """conv, ReLU, then x.view(x.size(0), -1): a Reshape to a shape computed at run time."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.head = nn.Conv2d(1, 2, 3), nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        return self.head(x.view(x.size(0), -1))


def _deeplift(model: onnx.ModelProto, image: np.ndarray, baseline: np.ndarray, target: int):
    session = explain_session(build_explain_graph(model, [_last_relu(model)]))
    batch = np.concatenate([image, baseline])
    logits = ort.InferenceSession(model.SerializeToString()).run(None, {"input": batch})[0]
    seeds = np.zeros_like(logits)
    seeds[:, target] = 1.0
    found = session.run(batch, seeds, propagation=PropagationRule(Propagation.DEEPLIFT_RESCALE))
    return found, logits


def _last_relu(model: onnx.ModelProto) -> str:
    return [n.output[0] for n in model.graph.node if n.op_type in ("Relu", "Clip")][-1]


@pytest.mark.parametrize("name", NETS)
def test_the_test_nets_run_an_empty_outer_batch_and_deeplift_sums_to_the_difference(name):
    net = make_net(name)
    model = export_onnx(net)
    assert _runs_empty(model)
    rng = np.random.default_rng(0)
    image, baseline = (rng.normal(size=(1, *net.input_shape)).astype(np.float32) for _ in "ab")
    found, logits = _deeplift(model, image, baseline, 2)
    np.testing.assert_allclose(found.logits, logits, rtol=1e-5, atol=1e-5)
    difference = logits[0, 2] - logits[1, 2]
    assert found.input_grad[0].sum() == pytest.approx(difference, rel=1e-4, abs=1e-4)
    ((layer, activation),) = found.activations.items()
    tapped = ort.InferenceSession(_tapped(model, layer).SerializeToString())
    expected = tapped.run([layer], {"input": np.concatenate([image, baseline])})[0]
    np.testing.assert_allclose(activation, expected, rtol=1e-5, atol=1e-6)


def _tapped(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    tapped = onnx.ModelProto()
    tapped.CopyFrom(model)
    tapped.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return tapped


def test_a_reshape_to_a_run_time_shape_keeps_one_row_and_still_explains():
    model = onnx_of(ViewFlatten(), (1, 4, 4))
    assert not _runs_empty(model)
    rng = np.random.default_rng(1)
    image, baseline = (rng.normal(size=(1, 1, 4, 4)).astype(np.float32) for _ in "ab")
    found, logits = _deeplift(model, image, baseline, 1)
    np.testing.assert_allclose(found.logits, logits, rtol=1e-5, atol=1e-5)
    difference = logits[0, 1] - logits[1, 1]
    assert found.input_grad[0].sum() == pytest.approx(difference, rel=1e-4, abs=1e-4)
