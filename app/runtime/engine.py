"""One model's gradient engine: its explain graphs, derived on first use per (layer set, input
gradient or not, objective) and kept in the model's session cache."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import onnx

from app.errors import GradientsUnsupportedError
from app.gradients import (
    ExplainResult,
    ExplainSession,
    UnsupportedOpError,
    build_explain_graph,
    unsupported_ops,
)
from app.runtime.cancellation import run_session
from app.runtime.derived import DerivedSessions
from app.runtime.explain_batching import current_group
from app.runtime.sessions import SessionFactory


@dataclass(frozen=True)
class EngineStats:
    build_seconds: float
    session_bytes: int


def cannot_build(error: Exception) -> str:
    """Why the gradient methods are off when building an explain graph failed."""
    return f"the explain graph could not be built ({type(error).__name__}: {error})"


def resident_bytes() -> int:
    """This process's resident memory, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


class GradientEngine:
    """Runs the explain graphs of one model. When the model has an op without a backward rule,
    `error` names it and every run raises GradientsUnsupportedError with that message.

    `eager` builds the default graphs now; otherwise only the ops are checked now and each
    graph is built on its first use (an explain session of EfficientNet-Lite0 holds ~100 MB,
    which a replica that only predicts never needs)."""

    def __init__(
        self,
        graph: onnx.ModelProto,
        sessions: SessionFactory,
        cache: DerivedSessions,
        default_layers: tuple[str, ...] = (),
        eager: bool = True,
    ) -> None:
        self.graph = graph
        self.sessions = sessions
        self.cache = cache
        self.default_layers = default_layers
        self.error: str | None = None
        self.stats = EngineStats(0.0, 0)
        try:
            if eager:
                self._warm_up(default_layers)
            else:
                self._check_ops()
        except GradientsUnsupportedError:
            pass  # `error` says why
        except UnsupportedOpError as error:
            self.error = str(error)
        except Exception as error:  # a graph the engine cannot differentiate must not stop serving
            self.error = cannot_build(error)

    def _check_ops(self) -> None:
        missing = unsupported_ops(self.graph)
        if missing:
            raise UnsupportedOpError(*missing[0])

    def _warm_up(self, layers: tuple[str, ...]) -> None:
        """Build the default graphs now, not on the first request: the full one, and (when
        there are layers) the one CAMs use, whose backward pass stops at the layers."""
        self.session(layers, True)
        if layers:
            self.session(layers, False)

    @property
    def available(self) -> bool:
        return self.error is None

    def require(self) -> None:
        """Raise GradientsUnsupportedError unless the gradient methods work for this model."""
        if self.error is not None:
            raise GradientsUnsupportedError(self.error)

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
        self.require()
        layers = layers or self.default_layers
        session = self.session(layers, input_gradient)
        group = current_group()  # explanations admitted together share the run
        if group is None:
            return session.run(image, seed, relu_rule)
        key = (id(self), layers, input_gradient, relu_rule)
        return group.run(key, image, seed, lambda rows, seeds: session.run(rows, seeds, relu_rule))

    def run_objective(self, image: np.ndarray, seed: np.ndarray, layer: str) -> ExplainResult:
        """The input gradient of sum(seed * `layer`'s activation), with that activation."""
        self.require()
        session = self.cache.get(
            ("objective", layer),
            lambda: self._session_on(build_explain_graph(self.graph, [layer], objective=layer)),
        )
        return session.run(image, seed)

    def session(self, layers: tuple[str, ...], input_gradient: bool) -> ExplainSession:
        """The explain session for `layers`, built on first use."""
        return self.cache.get(
            ("explain", layers, input_gradient), lambda: self._built(layers, input_gradient)
        )

    def _built(self, layers: tuple[str, ...], input_gradient: bool) -> ExplainSession:
        started, memory = time.perf_counter(), resident_bytes()
        try:
            graph = build_explain_graph(self.graph, list(layers), input_gradient=input_gradient)
            session = self._session_on(graph)
        except Exception as error:  # the default graphs: the gradient methods go off, with why
            if layers != self.default_layers:
                raise
            unsupported = isinstance(error, UnsupportedOpError)
            self.error = str(error) if unsupported else cannot_build(error)
            raise GradientsUnsupportedError(self.error) from error
        if layers == self.default_layers:
            seconds = self.stats.build_seconds + time.perf_counter() - started
            grown = self.stats.session_bytes + max(0, resident_bytes() - memory)
            self.stats = EngineStats(seconds, grown)
        return session

    def _session_on(self, graph) -> ExplainSession:
        return ExplainSession(graph, self.sessions.create(graph.model), run_session)
