"""Explain sessions for the engine's own tests, made by the app's one session factory."""

from __future__ import annotations

import onnx
import onnxruntime as ort

from app.gradients import ExplainGraph, ExplainSession
from app.gradients.frozen import FrozenForward
from app.gradients.session import FrozenForwardSession
from tests.tiny_models import TEST_SESSIONS


def explain_session(graph: ExplainGraph) -> ExplainSession:
    return ExplainSession(graph, TEST_SESSIONS.create(graph.model))


def frozen_session(frozen: FrozenForward) -> FrozenForwardSession:
    return FrozenForwardSession(frozen, TEST_SESSIONS.create(frozen.model))


def make_session(model: onnx.ModelProto) -> ort.InferenceSession:
    """What the self-check is given to make its frozen forward's session."""
    return TEST_SESSIONS.create(model)
