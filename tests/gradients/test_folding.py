"""Folding what does not depend on the input's data: "same" padding that timm's tf_ models
compute from the input's shape, weights standardised on every run (NF-ResNets), and shapes
that depend on the batch, which must stay computed."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from app.gradients import build_explain_graph
from app.gradients.analysis import prepare
from tests.gradients.reference import TOLERANCE, relative_error
from tests.gradients.sessions import explain_session
from tests.nets import export_onnx


class SamePaddedConv(nn.Module):
    """TensorFlow's "same" padding worked out from the input's shape, as timm's Conv2dSame."""

    input_shape = (3, 11, 10)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.head = nn.Linear(4 * 6 * 5, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):
            total = max((math.ceil(size / 2) - 1) * 2 + 3 - size, 0)
            pads += [total // 2, total - total // 2]
        return self.head(torch.flatten(F.relu(self.conv(F.pad(x, pads))), 1))


class StandardisedConv(nn.Module):
    """A conv whose weight is standardised on every run (weight standardisation)."""

    input_shape = (3, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3, 3, 3))
        self.head = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.weight.mean(dim=(1, 2, 3), keepdim=True)
        std = self.weight.var(dim=(1, 2, 3), keepdim=True, unbiased=False).add(1e-5).sqrt()
        y = F.conv2d(x, (self.weight - mean) / std)
        return self.head(torch.flatten(y, 1) * x.shape[0])  # a batch-dependent factor


def _initializers(model: onnx.ModelProto) -> set[str]:
    return {init.name for init in model.graph.initializer}


def _assert_gradient_matches_torch(net: nn.Module, batch: int) -> None:
    model = export_onnx(net.eval())
    x = torch.randn(batch, *net.input_shape, requires_grad=True)
    seed = torch.randn(batch, 5)
    (net(x) * seed).sum().backward()
    result = explain_session(build_explain_graph(model)).run(x.detach().numpy(), seed.numpy())
    assert relative_error(result.input_grad, x.grad.numpy()) <= TOLERANCE


@pytest.mark.parametrize("net", [SamePaddedConv, StandardisedConv], ids=lambda n: n.__name__)
@pytest.mark.parametrize("batch", [1, 3])
def test_a_graph_with_computed_constants_gets_exact_gradients_at_any_batch(net, batch):
    torch.manual_seed(0)
    _assert_gradient_matches_torch(net(), batch)


def test_same_padding_computed_from_the_shape_becomes_constant_pads():
    torch.manual_seed(0)
    prepared = prepare(export_onnx(SamePaddedConv().eval()))
    (pad,) = [node for node in prepared.graph.node if node.op_type == "Pad"]
    assert pad.input[1] in _initializers(prepared)
    assert not any(node.op_type == "Shape" for node in prepared.graph.node)


def test_a_standardised_weight_becomes_an_initializer_and_the_batch_size_stays_computed():
    torch.manual_seed(0)
    prepared = prepare(export_onnx(StandardisedConv().eval()))
    (conv,) = [node for node in prepared.graph.node if node.op_type == "Conv"]
    assert conv.input[1] in _initializers(prepared)
    weight = next(i for i in prepared.graph.initializer if i.name == conv.input[1])
    values = onnx.numpy_helper.to_array(weight).reshape(4, -1)
    assert np.allclose(values.std(axis=1), 1.0, atol=1e-3)
    assert any(node.op_type == "Shape" for node in prepared.graph.node)  # x.shape[0] is kept
