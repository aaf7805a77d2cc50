"""The self-check on the model zoo: every entry passes it, and each of the six architectures
issue 11 found wrong, given a deliberately broken rule whose error is of the size the issue
measured (max relative error of the input gradient about 1e-2 or more), fails it."""

from __future__ import annotations

import functools

import onnxruntime as ort
import pytest

from app.gradients import ExplainSession, ReluRule, build_explain_graph
from app.gradients.ops import BACKWARD_RULES
from app.gradients.self_check import SelfCheck
from app.gradients.verification import verify_explain_sessions
from tests.gradients import broken_rules
from tests.gradients.reference import relative_error
from tests.gradients.sessions import explain_session, make_session
from tests.gradients.zoo.architectures import BY_KEY, ZOO, exported
from tests.gradients.zoo.explained import batch, engine, run_engine, run_torch

pytestmark = pytest.mark.slow


def _forward(key: str):
    model = exported(key)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"image": x})[0]


def _verify(key: str, sessions: dict[str, ExplainSession]) -> SelfCheck:
    size = BY_KEY[key].size
    return verify_explain_sessions(
        exported(key), sessions, _forward(key), (3, size, size), make_session
    )


@functools.lru_cache(maxsize=1)  # one entry at a time: conftest.py runs them in turn
def zoo_check(key: str) -> SelfCheck:
    found, sessions = engine(key), {"full": engine(key).session}
    if found.layer:
        graph = build_explain_graph(exported(key), [found.layer], input_gradient=False)
        sessions["cam"] = explain_session(graph)
    return _verify(key, sessions)


@pytest.mark.parametrize("key", [arch.key for arch in ZOO])
def test_every_zoo_model_passes_the_self_check(key):
    check = zoo_check(key)
    assert check.passed, check.describe()


# (architecture, op type, broken rule)
BUGS = [
    ("efficientnet_lite0", "Clip", lambda: broken_rules.first_sample_mask("Clip")),
    ("cspresnet50", "Conv", lambda: broken_rules.scaled("Conv", 1.02)),
    ("dla34", "MaxPool", lambda: broken_rules.shifted("MaxPool")),
    ("mnasnet_small", "Relu", lambda: broken_rules.first_sample_mask("Relu")),
    ("darknet53", "LeakyRelu", lambda: broken_rules.scaled("LeakyRelu", 1.03)),
    ("resnetv2_50", "BatchNormalization", lambda: broken_rules.scaled("BatchNormalization", 1.02)),
]


@pytest.mark.parametrize(("key", "op_type", "bug"), BUGS, ids=[bug[0] for bug in BUGS])
def test_a_model_made_wrong_as_the_issue_measured_fails_the_self_check(
    monkeypatch, key, op_type, bug
):
    image, seed = batch(key)
    clean, values = run_engine(key, image, seed, ReluRule.GRADIENT)
    reference = run_torch(key, image, seed, clean, values)
    monkeypatch.setitem(BACKWARD_RULES, op_type, bug())
    wrong = explain_session(build_explain_graph(exported(key)))
    assert relative_error(wrong.run(image, seed).input_grad, reference.input_grad) >= 1e-2
    check = _verify(key, {"full": wrong})
    assert not check.passed, check.describe()
