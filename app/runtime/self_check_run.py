"""One run of a model's gradient self-check, as the engine makes it: under run options of its
own (the check must not stop when the request that waits for it goes away, and the arena each
session grew for it is given back afterwards), and with the heap's free pages handed back
when it ends (building and checking free tens of MB for a photo model)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import onnx
import onnxruntime as ort

from app.gradients import ExplainSession
from app.gradients.self_check import SelfCheck
from app.gradients.verification import verify_explain_sessions
from app.runtime.cancellation import with_run_options
from app.runtime.memory import release_free_memory


def run_self_check(
    graph: onnx.ModelProto,
    sessions: Mapping[str, ExplainSession],
    forward: Callable[[np.ndarray], np.ndarray],
    input_shape: tuple[int, ...],
    create: Callable,
) -> SelfCheck:
    """`verify_explain_sessions` on `sessions` against `forward`; raises what the check does."""
    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    try:
        return with_run_options(
            options, verify_explain_sessions, graph, sessions, forward, input_shape, create
        )
    finally:
        release_free_memory()
