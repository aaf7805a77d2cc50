"""One model's gradient engine: its explain graphs, built once per (layer set, input gradient
or not) and cached."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
from app.gradients.self_check import SelfCheck
from app.gradients.verification import verify_explain_sessions

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
    `error` names it and every run answers 422 (`error_code` gradients_unsupported); when
    `verify` finds its gradients disagree with the forward pass, 422 gradients_unverified."""

    def __init__(
        self, model: onnx.ModelProto, default_layers: tuple[str, ...] = (), threads: int = 0
    ) -> None:
        self.model = model
        self.default_layers = default_layers
        self.threads = threads
        self.error: str | None = None
        self.error_code = "gradients_unsupported"
        self.check: SelfCheck | None = None
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

    def verify(
        self, forward: Callable[[np.ndarray], np.ndarray], input_shape: tuple[int, ...]
    ) -> SelfCheck | None:
        """Check the default explain graphs against `forward` (the model's logits of a batch
        shaped (N, *input_shape)); on failure the gradient methods are refused."""
        if self.error is not None:
            return None
        sessions = {
            ("full" if gradient else "cam"): session
            for (layers, gradient), session in self._sessions.items()
            if layers == self.default_layers
        }
        try:
            self.check = verify_explain_sessions(
                self.model, sessions, forward, input_shape, self._options()
            )
        except Exception as error:  # a check that cannot run proves nothing: refuse
            self.error_code = "gradients_unverified"
            self.error = f"the gradient self-check could not run ({type(error).__name__}: {error})"
            return None
        if not self.check.passed:
            self.error_code = "gradients_unverified"
            self.error = (
                "the explain graph's gradients disagree with the model's forward pass, so "
                f"gradient methods are off: {self.check.describe()}"
            )
        return self.check

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
            raise APIError(422, self.error_code, self.error)
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
        graph = build_explain_graph(self.model, list(layers), input_gradient=input_gradient)
        return ExplainSession(graph, self._options())

    def _options(self) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: explain graphs have many short nodes, and on
        # a CPU shared with other requests spinning threads slowed ResNet-18 runs by up to 2x.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return options
