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
        """A session on `model` (serialised, or a ModelProto)."""
        data = model if isinstance(model, bytes) else model.SerializeToString()
        return ort.InferenceSession(data, self.options(), providers=["CPUExecutionProvider"])
