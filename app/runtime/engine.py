"""One model's gradient engine: its explain graphs, derived on first use per (layer set, input
gradient or not, rules or not, objective) and kept in the model's session cache.

A plain gradient runs on a graph without rules, the leanest (graph.py); guided backprop,
deconvnet, LRP and DeepLIFT on a graph with them, built the first time one of those runs.

No gradient leaves the engine before the self-check has passed on its default graphs: either
`verify` ran (at load, the default) or `verify_on_first_use` arranged for the first gradient
run to build and check them while it waits (LANTERN_EXPLAIN_GRAPHS=lazy). An engine given
neither refuses every run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import onnx

from app.errors import GradientsUnsupportedError, GradientsUnverifiedError
from app.gradients import (
    ExplainGraph,
    ExplainResult,
    ExplainSession,
    UnsupportedOpError,
    build_explain_graph,
    unsupported_ops,
)
from app.gradients.propagation import Propagation, PropagationRule
from app.gradients.self_check import SelfCheck
from app.runtime.cancellation import run_session
from app.runtime.derived import DerivedSessions
from app.runtime.explain_batching import current_group
from app.runtime.memory import resident_bytes
from app.runtime.self_check_run import run_self_check
from app.runtime.sessions import SessionFactory

log = logging.getLogger(__name__)
Forward = Callable[[np.ndarray], np.ndarray]  # the model's logits of a batch
Status = Literal["verified", "pending", "unchecked", "unsupported", "unverified"]


@dataclass(frozen=True)
class EngineStats:
    build_seconds: float
    session_bytes: int


@dataclass(frozen=True)
class _PendingCheck:
    forward: Forward
    input_shape: tuple[int, ...]
    name: str  # for the log line when it fails


def cannot_build(error: Exception) -> str:
    """Why the gradient methods are off when building an explain graph failed."""
    return f"the explain graph could not be built ({type(error).__name__}: {error})"


class GradientEngine:
    """Runs the explain graphs of one model. When the model has an op without a backward rule,
    `error` names it and every run raises GradientsUnsupportedError with that message; when
    the self-check finds its gradients disagree with the model's forward pass, every run
    raises GradientsUnverifiedError with the measured error.

    `eager` builds the default graphs now; otherwise only the ops are checked now and the
    graphs are built with the self-check (an explain session of EfficientNet-Lite0 holds
    ~100 MB, which a replica that only predicts never needs)."""

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
        self.unverified = False  # built, but the self-check found it wrong (or could not run)
        self.check: SelfCheck | None = None
        self.stats = EngineStats(0.0, 0)
        self._pending: _PendingCheck | None = None
        self._checking = threading.Lock()
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
        """Whether the gradient methods may work: not known to be off (a pending check may
        still turn them off)."""
        return self.error is None

    @property
    def status(self) -> Status:
        if self.error is not None:
            return "unverified" if self.unverified else "unsupported"
        if self.check is not None:
            return "verified"
        return "pending" if self._pending is not None else "unchecked"

    @property
    def code(self) -> str | None:
        """Why the gradient methods are off, as the API's error code (None: they are on)."""
        if self.error is None:
            return None
        return "gradients_unverified" if self.unverified else "gradients_unsupported"

    def require(self) -> None:
        """Raise GradientsUnsupportedError (or GradientsUnverifiedError) when the gradient
        methods are known to be off for this model. Cheap: it never builds or checks."""
        if self.error is not None:
            kind = GradientsUnverifiedError if self.unverified else GradientsUnsupportedError
            raise kind(self.error)

    def verify(self, forward: Forward, input_shape: tuple[int, ...]) -> SelfCheck | None:
        """Build the default explain graphs (if not yet) and check them now against `forward`
        (the model's logits of a batch shaped (N, *input_shape)); on failure the gradient
        methods are refused."""
        with self._checking:
            self._pending = None
            return self._verify(forward, input_shape)

    def verify_on_first_use(
        self, forward: Forward, input_shape: tuple[int, ...], name: str = "the model"
    ) -> None:
        """Leave building and checking the default graphs to the first gradient run, which
        waits for both (as do runs that come meanwhile)."""
        if self.error is None and self.check is None:
            self._pending = _PendingCheck(forward, input_shape, name)

    def _verify(self, forward: Forward, input_shape: tuple[int, ...]) -> SelfCheck | None:
        if self.error is not None:
            return None
        try:
            sessions = {"full": self.session(self.default_layers, True)}
            if self.default_layers:
                sessions["cam"] = self.session(self.default_layers, False)
        except GradientsUnsupportedError:
            return None  # `error` says why
        try:
            check = run_self_check(self.graph, sessions, forward, input_shape, self.sessions.create)
        except Exception as error:  # a check that cannot run proves nothing: refuse
            self._refuse(f"the gradient self-check could not run ({type(error).__name__}: {error})")
            return None
        if not check.passed:
            self._refuse(
                "the explain graph's gradients disagree with the model's forward pass, so "
                f"gradient methods are off: {check.describe()}"
            )
        self.check = check
        self._refusals()  # now, with the check, not when a request first lists the methods
        return check

    def _refuse(self, reason: str) -> None:
        self.error, self.unverified = reason, True

    def settle(self) -> None:
        """Build and check the default graphs now if that was left pending (runs that come
        meanwhile wait for it); a no-op once checked or off."""
        if self.check is None and self.error is None:
            with self._checking:
                pending = self._pending
                if pending is not None and self.check is None:
                    self._verify(pending.forward, pending.input_shape)
                    self._pending = None
                    if self.error is not None:
                        log.warning("%s: gradient methods off: %s", pending.name, self.error)

    def _ready(self) -> None:
        """Raise unless the self-check has passed, running it first if it is pending."""
        self.settle()
        self.require()
        if self.check is None:
            raise GradientsUnverifiedError("the gradient self-check has not run for this model")

    def run(
        self,
        image: np.ndarray,
        seed: np.ndarray,
        relu_rule: int = 0,
        layers: tuple[str, ...] = (),
        input_gradient: bool = True,
        propagation: PropagationRule | None = None,
        top_seed: np.ndarray | None = None,
    ) -> ExplainResult:
        """Logits, input gradient, and the activations and gradients of `layers`, of
        sum(seed * logits), plus `top_seed` (N, 1) times each row's top logit where given
        (`top_seeds` tells whether the graphs can: a model whose logits are not (N, K)).

        `input_gradient=False` runs a graph whose backward pass stops at `layers` (about the
        cost of a forward pass); its result has `input_grad` None. Under a `propagation`
        rule (LRP, DeepLIFT) the gradients are relevances; a rule the model's ops do not all
        have raises GradientsUnsupportedError.
        """
        self._ready()
        layers = layers or self.default_layers
        if propagation is not None and propagation.kind != Propagation.GRADIENT:
            reason = self.propagation_error(propagation.kind)
            if reason is not None:
                raise GradientsUnsupportedError(reason)
            session = self.session(layers, input_gradient, rules=True)
            return session.run(image, seed, relu_rule, propagation, top_seed)  # ungrouped
        session = self.session(layers, input_gradient, rules=relu_rule != 0)
        group = current_group()  # explanations admitted together share the run
        if group is None:
            return session.run(image, seed, relu_rule, None, top_seed)
        key = (id(self), layers, input_gradient, relu_rule)
        return group.run(
            key,
            image,
            seed,
            lambda rows, seeds, tops: session.run(rows, seeds, relu_rule, None, tops),
            top_seed,
        )

    def top_seeds(self) -> bool:
        """Whether runs can seed each row's top class themselves (`run`'s `top_seed`)."""
        self._ready()
        return self.session(self.default_layers, True).graph.top_seed_name is not None

    def propagation_error(self, kind: Propagation) -> str | None:
        """Why `kind` cannot run on this model (None: it can)."""
        if self.error is not None:
            return self.error
        refusal = self._refusals().get(kind)
        if refusal is None:
            return None
        return f"{kind.name.lower()} has no rule for an op of this model: {refusal}"

    def run_objective(self, image: np.ndarray, seed: np.ndarray, layer: str) -> ExplainResult:
        """The input gradient of sum(seed * `layer`'s activation), with that activation."""
        self._ready()
        session = self.cache.get(
            ("objective", layer),
            lambda: self._session_on(build_explain_graph(self.graph, [layer], objective=layer)),
        )
        return session.run(image, seed)

    def session(
        self, layers: tuple[str, ...], input_gradient: bool, rules: bool = False
    ) -> ExplainSession:
        """The explain session for `layers`, built on first use; with `rules`, the graph that
        also runs the ReLU and propagation rules (build_explain_graph)."""
        return self.cache.get(
            ("explain", layers, input_gradient, rules),
            lambda: self._built(layers, input_gradient, rules),
        )

    def _refusals(self) -> dict[Propagation, str]:
        """The propagation rules this model's ops refuse, from building the graph with rules
        once (no session: a model whose LRP is only listed never holds one)."""

        def build() -> dict[Propagation, str]:
            try:
                graph = build_explain_graph(self.graph, list(self.default_layers), rules=True)
            except Exception as error:  # the gradient keeps working; these rules do not
                return {kind: cannot_build(error) for kind in Propagation if kind}
            return dict(graph.refusals)

        return self.cache.get(("refusals",), build)

    def _built(self, layers: tuple[str, ...], input_gradient: bool, rules: bool) -> ExplainSession:
        started, memory = time.perf_counter(), resident_bytes()
        try:
            graph = build_explain_graph(
                self.graph, list(layers), input_gradient=input_gradient, rules=rules
            )
            session = self._session_on(graph)
        except Exception as error:  # the default graphs: the gradient methods go off, with why
            if layers != self.default_layers or rules:
                raise
            unsupported = isinstance(error, UnsupportedOpError)
            self.error = str(error) if unsupported else cannot_build(error)
            raise GradientsUnsupportedError(self.error) from error
        if layers == self.default_layers and not rules:
            seconds = self.stats.build_seconds + time.perf_counter() - started
            grown = self.stats.session_bytes + max(0, resident_bytes() - memory)
            self.stats = EngineStats(seconds, grown)
        return session

    def _session_on(self, graph: ExplainGraph) -> ExplainSession:
        session = self.sessions.create(graph.model)
        # The session holds its own copy of the weights, and a run needs only the graph's
        # names: the ModelProto (tens of MB for a photo model) is let go.
        return ExplainSession(replace(graph, model=onnx.ModelProto()), session, run_session)
