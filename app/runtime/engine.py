"""One model's gradient engine: its explain graphs, derived on first use per (layer set, input
gradient or not, objective) and kept in the model's session cache."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx

from app.errors import GradientsUnsupportedError, GradientsUnverifiedError
from app.gradients import ExplainResult, ExplainSession, UnsupportedOpError, build_explain_graph
from app.gradients.propagation import Propagation, PropagationRule
from app.gradients.self_check import SelfCheck
from app.gradients.verification import verify_explain_sessions
from app.runtime.cancellation import run_session
from app.runtime.derived import DerivedSessions
from app.runtime.sessions import SessionFactory


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
    """Runs the explain graphs of one model. When the model has an op without a backward rule,
    `error` names it and every run raises GradientsUnsupportedError with that message; when
    `verify` finds its gradients disagree with the model's forward pass, every run raises
    GradientsUnverifiedError with the measured error."""

    def __init__(
        self,
        graph: onnx.ModelProto,
        sessions: SessionFactory,
        cache: DerivedSessions,
        default_layers: tuple[str, ...] = (),
    ) -> None:
        self.graph = graph
        self.sessions = sessions
        self.cache = cache
        self.default_layers = default_layers
        self.error: str | None = None
        self.unverified = False  # built, but the self-check found it wrong (or could not run)
        self.check: SelfCheck | None = None
        self.stats = EngineStats(0.0, 0)
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
        self.session(layers, True)
        if layers:
            self.session(layers, False)
        self.stats = EngineStats(time.perf_counter() - started, max(0, resident_bytes() - memory))

    @property
    def available(self) -> bool:
        return self.error is None

    @property
    def code(self) -> str | None:
        """Why the gradient methods are off, as the API's error code (None: they are on)."""
        if self.error is None:
            return None
        return "gradients_unverified" if self.unverified else "gradients_unsupported"

    def require(self) -> None:
        """Raise GradientsUnsupportedError (or GradientsUnverifiedError) unless the gradient
        methods work for this model."""
        if self.error is not None:
            kind = GradientsUnverifiedError if self.unverified else GradientsUnsupportedError
            raise kind(self.error)

    def verify(
        self, forward: Callable[[np.ndarray], np.ndarray], input_shape: tuple[int, ...]
    ) -> SelfCheck | None:
        """Check the default explain graphs against `forward` (the model's logits of a batch
        shaped (N, *input_shape)); on failure the gradient methods are refused."""
        if self.error is not None:
            return None
        sessions = {"full": self.session(self.default_layers, True)}
        if self.default_layers:
            sessions["cam"] = self.session(self.default_layers, False)
        try:
            self.check = verify_explain_sessions(
                self.graph, sessions, forward, input_shape, self.sessions.create
            )
        except Exception as error:  # a check that cannot run proves nothing: refuse
            self._refuse(f"the gradient self-check could not run ({type(error).__name__}: {error})")
            return None
        if not self.check.passed:
            self._refuse(
                "the explain graph's gradients disagree with the model's forward pass, so "
                f"gradient methods are off: {self.check.describe()}"
            )
        return self.check

    def _refuse(self, reason: str) -> None:
        self.error, self.unverified = reason, True

    def run(
        self,
        image: np.ndarray,
        seed: np.ndarray,
        relu_rule: int = 0,
        layers: tuple[str, ...] = (),
        input_gradient: bool = True,
        propagation: PropagationRule | None = None,
    ) -> ExplainResult:
        """Logits, input gradient, and the activations and gradients of `layers`.

        `input_gradient=False` runs a graph whose backward pass stops at `layers` (about the
        cost of a forward pass); its result has `input_grad` None. Under a `propagation`
        rule (LRP, DeepLIFT) the gradients are relevances; a rule the model's ops do not all
        have raises GradientsUnsupportedError.
        """
        self.require()
        session = self.session(layers or self.default_layers, input_gradient)
        if propagation is not None and propagation.kind != Propagation.GRADIENT:
            reason = self.propagation_error(propagation.kind)
            if reason is not None:
                raise GradientsUnsupportedError(reason)
        return session.run(image, seed, relu_rule, propagation)

    def propagation_error(self, kind: Propagation) -> str | None:
        """Why `kind` cannot run on this model (None: it can)."""
        if self.error is not None:
            return self.error
        refusal = self.session(self.default_layers, True).graph.refusals.get(kind)
        if refusal is None:
            return None
        return f"{kind.name.lower()} has no rule for an op of this model: {refusal}"

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
            ("explain", layers, input_gradient),
            lambda: self._session_on(
                build_explain_graph(self.graph, list(layers), input_gradient=input_gradient)
            ),
        )

    def _session_on(self, graph) -> ExplainSession:
        return ExplainSession(graph, self.sessions.create(graph.model), run_session)
