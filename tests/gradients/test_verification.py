"""The self-check on real explain sessions (verification.py): exact on every net of the
small zoo, and a deliberately broken rule fails it, however small the error."""

from __future__ import annotations

import functools

import numpy as np
import onnxruntime as ort
import pytest

from app.gradients import build_explain_graph
from app.gradients.ops import BACKWARD_RULES
from app.gradients.self_check import TOLERANCE, SelfCheck
from app.gradients.verification import verify_explain_sessions
from tests.gradients import broken_rules
from tests.gradients.sessions import explain_session, make_session
from tests.nets import ZOO, export_onnx, make_net, onnx_tensor_of


@functools.cache
def _exported(name: str):
    net = make_net(name)
    model = export_onnx(net)
    return net, model, onnx_tensor_of(model, net.cam_layer)


def _verify(name: str) -> SelfCheck:
    net, model, layer = _exported(name)
    forward = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    sessions = {
        "full": explain_session(build_explain_graph(model, [layer])),
        "cam": explain_session(build_explain_graph(model, [layer], input_gradient=False)),
    }
    return verify_explain_sessions(
        model,
        sessions,
        lambda x: forward.run(None, {"input": x})[0],
        net.input_shape,
        make_session,
    )


@pytest.mark.parametrize("name", ZOO)
def test_every_net_of_the_small_zoo_passes_the_self_check(name):
    check = _verify(name)
    assert check.passed, check.describe()
    assert check.error < TOLERANCE / 5


# (id, net, op type, broken rule); each is wrong by about 1e-2 or more of the gradient
BUGS = [
    ("conv_two_percent_off", "resnet_tiny", "Conv", lambda: broken_rules.scaled("Conv", 1.02, 3)),
    ("relu_mask_of_sample_0", "lenet5", "Relu", lambda: broken_rules.first_sample_mask("Relu")),
    ("clip_mask_of_sample_0", "mobilenet_v2_tiny", "Clip",
     lambda: broken_rules.first_sample_mask("Clip")),
    ("pool_shifted", "mnist_cnn", "MaxPool", lambda: broken_rules.shifted("MaxPool")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "op_type", "bug"), [b[1:] for b in BUGS], ids=[b[0] for b in BUGS]
)
def test_a_broken_rule_fails_the_self_check(monkeypatch, name, op_type, bug):
    monkeypatch.setitem(BACKWARD_RULES, op_type, bug())
    check = _verify(name)
    assert not check.passed, check.describe()
    assert check.error > TOLERANCE


def test_the_check_is_deterministic():
    assert _verify("lenet5").error == _verify("lenet5").error
    assert np.isfinite(_verify("lenet5").seconds)
