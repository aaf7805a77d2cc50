"""Explain sessions for the engine's own tests, made by the app's one session factory."""

from __future__ import annotations

from app.gradients import ExplainGraph, ExplainSession
from tests.tiny_models import TEST_SESSIONS


def explain_session(graph: ExplainGraph) -> ExplainSession:
    return ExplainSession(graph, TEST_SESSIONS.create(graph.model))
