"""onnxruntime sessions: created once per model with graph optimisation on, then warmed up."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from app.store.manifest import InputSpec


def create_session(model_bytes: bytes, intra_op_threads: int = 0) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def blank_batch(spec: InputSpec, batch: int = 1) -> np.ndarray:
    """Zeros shaped like the model's input, for warm-up runs."""
    if spec.layout == "NHWC":
        return np.zeros((batch, spec.height, spec.width, spec.channels), dtype=np.float32)
    return np.zeros((batch, spec.channels, spec.height, spec.width), dtype=np.float32)


def warm_up(session: ort.InferenceSession, spec: InputSpec, runs: int) -> np.ndarray:
    """Run a blank batch of 2 `runs` times (at least once) and return the last outputs: the
    loader checks their shape, so the batch axis must be dynamic."""
    batch = {spec.name: blank_batch(spec, 2)}
    outputs = session.run(None, batch)[0]
    for _ in range(runs - 1):
        outputs = session.run(None, batch)[0]
    return np.asarray(outputs)
