"""app/runtime/engine.py: no gradient leaves the engine before the self-check has passed,
whether it ran at load or runs with the first gradient request."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from app.errors import GradientsUnverifiedError
from app.gradients import build_explain_graph
from app.gradients.ops import BACKWARD_RULES
from app.gradients.propagation import Propagation, PropagationRule
from app.runtime import self_check_run
from app.runtime.cancellation import RunCancelledError, with_run_options
from app.runtime.derived import DerivedSessions
from app.runtime.engine import GradientEngine
from app.runtime.loader import LoadOptions, load_store
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory
from tests.gradients import broken_rules
from tests.tiny_models import manifest_fields, tiny_cnn, write_store_entry

LAZY = LoadOptions(eager_explain_graphs=False)


def _model(store: Path, options: LoadOptions = LAZY) -> RunningModel:
    write_store_entry(store, tiny_cnn(1, 28, 10), manifest_fields("net", 1, 28, 10))
    return load_store(store, options).get("net")


def _inputs(model: RunningModel) -> tuple[np.ndarray, np.ndarray]:
    image = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
    return image, np.eye(model.manifest.classes, dtype=np.float32)[:1]


def test_a_lazy_engine_checks_its_graphs_with_the_first_gradient_run(tmp_path):
    model = _model(tmp_path)
    assert model.engine.status == "pending" and model.engine.available
    model.engine.run(*_inputs(model))
    assert model.engine.status == "verified" and model.engine.check.passed


def test_a_lazy_engine_whose_check_fails_refuses_the_first_run_and_every_later_one(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setitem(BACKWARD_RULES, "Relu", broken_rules.scaled("Relu", 1.05))
    model = _model(tmp_path)
    assert model.engine.status == "pending"
    with (
        caplog.at_level(logging.WARNING, logger="app.runtime.engine"),
        pytest.raises(GradientsUnverifiedError, match="self-check FAILED"),
    ):
        model.engine.run(*_inputs(model))
    assert "model net version 1: gradient methods off" in caplog.text
    assert model.engine.status == "unverified" and not model.engine.available
    with pytest.raises(GradientsUnverifiedError):
        model.engine.require()  # what the routes ask before they take any work
    with pytest.raises(GradientsUnverifiedError):
        model.engine.run_objective(*_inputs(model), layer=model.layers.cam_layer)


def test_concurrent_first_runs_wait_for_one_check(tmp_path, monkeypatch):
    model = _model(tmp_path)
    checks, real = [], self_check_run.verify_explain_sessions

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        checks.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(self_check_run, "verify_explain_sessions", counted)
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: results.append(model.engine.run(*_inputs(model)).logits))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) == 1 and len(results) == 4


def test_a_check_hands_the_memory_it_freed_back_to_the_system(tmp_path, monkeypatch):
    model = _model(tmp_path)
    released: list[bool] = []
    monkeypatch.setattr(self_check_run, "release_free_memory", lambda: released.append(True))
    model.engine.settle()
    assert model.engine.status == "verified" and released == [True]


def test_an_engine_nobody_checked_refuses_to_run(tmp_path):
    model = _model(tmp_path)
    engine = GradientEngine(model.graph, SessionFactory(), DerivedSessions(), ())
    assert engine.status == "unchecked"
    with pytest.raises(GradientsUnverifiedError, match="has not run"):
        engine.run(*_inputs(model))


def test_an_eager_engine_is_checked_before_the_model_is_served(tmp_path, monkeypatch):
    model = _model(tmp_path, LoadOptions(eager_explain_graphs=True))
    assert model.engine.status == "verified" and model.engine.check.seconds > 0
    monkeypatch.setattr(self_check_run, "verify_explain_sessions", None)  # never again
    model.engine.run(*_inputs(model))


def test_a_first_use_check_finishes_when_the_request_waiting_for_it_is_cancelled(tmp_path):
    model = _model(tmp_path)
    options = ort.RunOptions()
    options.terminate = True  # its client left
    with pytest.raises(RunCancelledError):
        with_run_options(options, model.engine.run, *_inputs(model))
    assert model.engine.status == "verified"


def test_a_graph_built_again_is_byte_identical_to_the_one_checked(tmp_path):
    # A default graph evicted from the session cache is rebuilt without a second check.
    model = _model(tmp_path)
    layers = [model.layers.cam_layer]
    first, again = (build_explain_graph(model.graph, layers).model for _ in range(2))
    assert first.SerializeToString() == again.SerializeToString()


def _graphs_built(model: RunningModel) -> set[tuple]:
    return {key for key in model.engine.cache if key[0] == "explain"}


def test_the_gradient_runs_without_rules_and_a_rule_builds_the_graph_with_them(tmp_path):
    model = _model(tmp_path, LoadOptions(eager_explain_graphs=True))
    layers = (model.layers.cam_layer,)
    plain = model.engine.run(*_inputs(model)).required_input_grad()
    assert _graphs_built(model) == {
        ("explain", layers, True, False),
        ("explain", layers, False, False),
    }
    guided = model.engine.run(*_inputs(model), relu_rule=1)
    assert ("explain", layers, True, True) in _graphs_built(model)
    assert not np.array_equal(guided.required_input_grad(), plain)


def test_whether_a_propagation_rule_applies_is_known_without_a_session_with_rules(tmp_path):
    model = _model(tmp_path, LoadOptions(eager_explain_graphs=True))
    assert ("refusals",) in set(model.engine.cache)  # found with the check, before any request
    assert model.engine.propagation_error(Propagation.LRP_EPSILON) is None
    assert all(not key[-1] for key in _graphs_built(model))  # no session with rules yet
    relevance = model.engine.run(
        *_inputs(model), propagation=PropagationRule(Propagation.LRP_EPSILON)
    )
    assert relevance.required_input_grad().shape == (1, 1, 28, 28)
    assert any(key[-1] for key in _graphs_built(model))
