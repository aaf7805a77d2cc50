"""One model's gradient engine: its explain graphs, built once per (layer set, input gradient
or not) and cached."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort

from app.errors import APIError
from app.gradients import (
    ExplainResult,
    ExplainSession,
    UnsupportedOpError,
    build_explain_graph,
)

MAX_CACHED_LAYER_SETS = 8


@dataclass(frozen=True)
class EngineStats:
    build_seconds: float
    session_bytes: int


def resident_bytes() -> int:
    """This process's resident memory, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


class GradientEngine:
    """Runs the explain graph of one model. When the model has an op without a backward rule,
    `error` names it and every run answers 422 with that message."""

    def __init__(
        self, model: onnx.ModelProto, default_layers: tuple[str, ...] = (), threads: int = 0
    ) -> None:
        self.model = model
        self.default_layers = default_layers
        self.threads = threads
        self.error: str | None = None
        self.stats = EngineStats(0.0, 0)
        self._sessions: dict[tuple[tuple[str, ...], bool], ExplainSession] = {}
        self._lock = threading.Lock()
        try:
            self._warm_up(default_layers)
        except UnsupportedOpError as error:
            self.error = str(error)
        except Exception as error:  # a graph the engine cannot differentiate must not stop serving
            self.error = f"the explain graph could not be built ({type(error).__name__}: {error})"

    def _warm_up(self, layers: tuple[str, ...]) -> None:
        """Build the default graphs now, not on the first request: the full one, and (when
        there are layers) the one CAMs use, whose backward pass stops at the layers."""
        started, memory = time.perf_counter(), resident_bytes()
        self._session(layers, True)
        if layers:
            self._session(layers, False)
        self.stats = EngineStats(time.perf_counter() - started, max(0, resident_bytes() - memory))

    @property
    def available(self) -> bool:
        return self.error is None

    def run(
        self,
        image: np.ndarray,
        seed: np.ndarray,
        relu_rule: int = 0,
        layers: tuple[str, ...] = (),
        input_gradient: bool = True,
    ) -> ExplainResult:
        """Logits, input gradient, and the activations and gradients of `layers`.

        `input_gradient=False` runs a graph whose backward pass stops at `layers` (about the
        cost of a forward pass); its result has `input_grad` None.
        """
        if self.error is not None:
            raise APIError(422, "gradients_unsupported", self.error)
        session = self._session(layers or self.default_layers, input_gradient)
        return session.run(image, seed, relu_rule)

    def _session(self, layers: tuple[str, ...], input_gradient: bool) -> ExplainSession:
        key = (layers, input_gradient)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._build(layers, input_gradient)
                if len(self._sessions) >= MAX_CACHED_LAYER_SETS:
                    self._sessions.pop(next(iter(self._sessions)))
                self._sessions[key] = session
            return session

    def _build(self, layers: tuple[str, ...], input_gradient: bool) -> ExplainSession:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: explain graphs have many short nodes, and on
        # a CPU shared with other requests spinning threads slowed ResNet-18 runs by up to 2x.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        graph = build_explain_graph(self.model, list(layers), input_gradient=input_gradient)
        return ExplainSession(graph, options)
