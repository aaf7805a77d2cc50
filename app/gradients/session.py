"""Running an explain graph with a stock onnxruntime session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

from app.gradients.frozen import FrozenForward
from app.gradients.graph import ExplainGraph
from app.gradients.propagation import PropagationRule

# (session, output names, feeds) -> outputs: how a session is run (the caller may add
# run options, e.g. to stop a run whose request was abandoned)
SessionRunner = Callable[[ort.InferenceSession, Sequence[str], dict[str, np.ndarray]], list[Any]]


def plain_run(
    session: ort.InferenceSession, names: Sequence[str], feeds: dict[str, np.ndarray]
) -> list[Any]:
    return session.run(list(names), feeds)


@dataclass
class ExplainResult:
    """One run of the explain graph."""

    logits: np.ndarray  # (N, K)
    input_grad: np.ndarray | None  # like the input; None when the graph has no input_grad
    activations: dict[str, np.ndarray] = field(default_factory=dict)
    gradients: dict[str, np.ndarray] = field(default_factory=dict)

    def required_input_grad(self) -> np.ndarray:
        """The input gradient, which a graph built with `input_gradient=False` does not give."""
        if self.input_grad is None:
            raise ValueError("this explain graph was built without the input gradient")
        return self.input_grad


class ExplainSession:
    """An explain graph and the onnxruntime session that runs it (made by the caller, so the
    engine never chooses session options)."""

    def __init__(
        self, graph: ExplainGraph, session: ort.InferenceSession, run: SessionRunner = plain_run
    ) -> None:
        self.graph = graph
        self.session = session
        self._run = run

    def run(
        self,
        image: np.ndarray,
        seed: np.ndarray,
        relu_rule: int = 0,
        propagation: PropagationRule | None = None,
        top_seed: np.ndarray | None = None,
    ) -> ExplainResult:
        """Logits, input gradient and layer activations/gradients of sum(seed * logits); under
        a propagation rule, the input's and layers' relevances in place of the gradients.
        `top_seed` (N, 1) adds that much of each row's top class to its seed (the graph
        finds the class: see `build_explain_graph`)."""
        g = self.graph
        feeds = self.feeds(image, seed, relu_rule, propagation, top_seed)
        layers = list(g.layer_outputs.items())
        heads = [g.logits_name] + ([g.input_grad_name] if g.input_grad_name else [])
        names = heads + [n for _, outs in layers for n in (outs.activation, outs.gradient)]
        values = self._run(self.session, names, feeds)
        result = ExplainResult(values[0], values[1] if g.input_grad_name else None)
        for index, (layer, _) in enumerate(layers):
            result.activations[layer] = values[len(heads) + 2 * index]
            result.gradients[layer] = values[len(heads) + 2 * index + 1]
        return result

    def feeds(
        self,
        image: np.ndarray,
        seed: np.ndarray,
        relu_rule: int = 0,
        propagation: PropagationRule | None = None,
        top_seed: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """The explain graph's inputs for one run (see `run`)."""
        g = self.graph
        feeds: dict[str, np.ndarray] = {
            g.input_name: np.asarray(image, dtype=np.float32, order="C"),
            g.seed_name: np.asarray(seed, dtype=np.float32, order="C"),
        }
        if g.relu_rule_name is not None:
            feeds[g.relu_rule_name] = np.asarray(int(relu_rule), dtype=np.int64)
        elif relu_rule:
            raise ValueError("this explain graph has no ReLU rules (it was built without rules)")
        if g.top_seed_name is not None:
            rows = np.zeros((len(seed), 1), np.float32) if top_seed is None else top_seed
            feeds[g.top_seed_name] = np.asarray(rows, dtype=np.float32).reshape(len(seed), 1)
        elif top_seed is not None and np.any(top_seed):
            raise ValueError("this explain graph cannot seed the top class itself")
        rule = propagation or PropagationRule()
        if g.propagation_name is not None:
            feeds.update(rule.feeds(feeds[g.input_name].shape))
        elif rule.kind:
            raise ValueError("this explain graph has no propagation rules")
        return feeds


class FrozenForwardSession:
    """A frozen forward graph (frozen.py) and the onnxruntime session that runs it (made by
    the caller), for the self-check."""

    def __init__(self, frozen: FrozenForward, session: ort.InferenceSession) -> None:
        self.frozen = frozen
        self.session = session

    def run(self, image: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Logits at `image` (G * B rows) on the branches of `base` (B rows)."""
        f = self.frozen
        return self.session.run([f.logits_name], {f.input_name: image, f.base_name: base})[0]
