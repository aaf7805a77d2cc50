"""The self-check on built explain sessions: the glue between self_check.py (pure numerics)
and onnxruntime (the frozen forward's session, made by the caller's `make_session` and
dropped when done)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping

import numpy as np
import onnx
import onnxruntime as ort

from app.gradients.frozen import build_frozen_forward
from app.gradients.self_check import SelfCheck, check_gradients
from app.gradients.session import ExplainSession, FrozenForwardSession


def verify_explain_sessions(
    model: onnx.ModelProto,
    sessions: Mapping[str, ExplainSession],
    forward: Callable[[np.ndarray], np.ndarray],
    input_shape: tuple[int, ...],
    make_session: Callable[[onnx.ModelProto], ort.InferenceSession],
) -> SelfCheck:
    """Check `sessions` (name -> explain session of `model`, the first with the input
    gradient) against `forward`, the model's own logits; the seconds include building the
    frozen forward."""
    started = time.perf_counter()
    frozen_graph = build_frozen_forward(model)
    frozen = FrozenForwardSession(frozen_graph, make_session(frozen_graph.model))
    explains = {name: session.run for name, session in sessions.items()}
    check = check_gradients(forward, frozen.run, explains, input_shape)
    return dataclasses.replace(check, seconds=time.perf_counter() - started)
