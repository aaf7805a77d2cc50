"""The one factory of onnxruntime sessions: every session Lantern runs (forward, explain graphs,
layer taps, activation-maximisation objectives) is made here, with the same options."""

from __future__ import annotations

from dataclasses import dataclass

import onnx
import onnxruntime as ort


@dataclass(frozen=True)
class SessionFactory:
    """Sessions with graph optimisation on, on the CPU, with the server's thread settings.

    `intra_op_threads` 0 lets onnxruntime decide. `allow_spinning` False makes idle pool
    threads sleep instead of spinning: explain graphs have many short nodes, and on a CPU
    shared with other requests spinning threads slowed ResNet-18 explain runs by up to 2x and
    kept cores busy between requests."""

    intra_op_threads: int = 0
    allow_spinning: bool = False

    def options(self) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        spinning = "1" if self.allow_spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
        return options

    def create(self, model: bytes | onnx.ModelProto) -> ort.InferenceSession:
        """A session on `model` (serialised, or a ModelProto), holding no copy of it.

        onnxruntime's Python session keeps the serialised model it was made from, weights
        and all, so that it can re-create itself on a fallback provider; a CPU session has
        none to fall back to. Letting it go saved a third of the resident memory of the
        shipped store's sessions (each explain graph carries the model's weights)."""
        data = model if isinstance(model, bytes) else model.SerializeToString()
        session = ort.InferenceSession(
            data, self.options(), providers=["CPUExecutionProvider"], enable_fallback=0
        )
        session._model_bytes = None  # read only by a re-creation, which fallback 0 rules out
        return session
