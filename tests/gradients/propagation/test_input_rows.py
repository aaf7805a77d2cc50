"""DeepLIFT's backward pass on the inputs' rows gives what the pass over the whole batch gives
(the baselines' rows negated), through ReLU, ReLU6, MaxPool and residual Adds."""

from __future__ import annotations

import numpy as np
import pytest

from app.gradients import build_explain_graph
from app.gradients.propagation import Propagation, PropagationRule, branches
from app.gradients.propagation.input_rows import RowsUnknownError
from tests.gradients.sessions import explain_session
from tests.nets import export_onnx, make_net


def _never_on_input_rows(*_args, **_kwargs):
    raise RowsUnknownError("forced: the whole batch")


def _deeplift(net, rows: int = 2) -> np.ndarray:
    session = explain_session(build_explain_graph(export_onnx(net), rules=True))
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(2 * rows, *net.input_shape)).astype(np.float32)
    seeds = np.zeros((2 * rows, 10), np.float32)
    seeds[np.arange(2 * rows), [1, 4, 1, 4][: 2 * rows]] = 1.0
    rule = PropagationRule(Propagation.DEEPLIFT_RESCALE)
    return session.run(batch, seeds, propagation=rule).required_input_grad()


@pytest.mark.parametrize("name", ["lenet5", "resnet_tiny", "mobilenet_v2_tiny"])
def test_deeplift_on_the_inputs_rows_equals_the_pass_over_the_whole_batch(name, monkeypatch):
    net = make_net(name)
    ours = _deeplift(net)
    monkeypatch.setattr(branches, "on_input_rows", _never_on_input_rows)
    whole = _deeplift(net)
    scale = np.abs(whole).max()
    np.testing.assert_allclose(ours, whole, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(ours[2:], -ours[:2], rtol=0, atol=0)
