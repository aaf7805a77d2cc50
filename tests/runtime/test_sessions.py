"""The one session factory: the server's thread and spinning settings reach every session."""

from __future__ import annotations

import sys

import numpy as np

from app.runtime.sessions import SessionFactory
from tests.tiny_models import running, tiny_cnn


def test_the_options_carry_the_thread_and_spinning_settings():
    options = SessionFactory(intra_op_threads=3, allow_spinning=False).options()
    assert options.intra_op_num_threads == 3 and options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    spinning = SessionFactory(allow_spinning=True).options()
    assert spinning.get_session_config_entry("session.intra_op.allow_spinning") == "1"


def test_a_session_is_made_from_a_graph_or_its_bytes():
    model = tiny_cnn(1, 28, 10)
    batch = {"input": np.zeros((2, 1, 28, 28), np.float32)}
    factory = SessionFactory(intra_op_threads=1)
    from_graph = factory.create(model).run(None, batch)[0]
    from_bytes = factory.create(model.SerializeToString()).run(None, batch)[0]
    np.testing.assert_array_equal(from_graph, from_bytes)


def test_every_session_of_a_running_model_comes_from_its_factory(monkeypatch):
    made = []
    original = SessionFactory.create
    monkeypatch.setattr(
        SessionFactory, "create", lambda self, m: made.append(self) or original(self, m)
    )
    model = running(tiny_cnn(1, 28, 10))  # forward and the explain graphs
    model.taps.run(np.zeros((1, 1, 28, 28), np.float32), ("conv",))
    assert len(made) >= 4 and {factory.intra_op_threads for factory in made} == {1}


def test_a_session_keeps_no_reference_to_the_model_it_was_made_from():
    data = tiny_cnn(1, 28, 10).SerializeToString()
    before = sys.getrefcount(data)
    session = SessionFactory(intra_op_threads=1).create(data)
    assert sys.getrefcount(data) == before
    outputs = session.run(None, {"input": np.zeros((1, 1, 28, 28), np.float32)})[0]
    assert outputs.shape == (1, 10)  # and it runs without it
