"""Running an explain graph with a stock onnxruntime session."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort

from app.cancellation import run_session
from app.gradients.frozen import FrozenForward
from app.gradients.graph import ExplainGraph


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


def _session(model, options: ort.SessionOptions | None) -> ort.InferenceSession:
    if options is None:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


class ExplainSession:
    """An onnxruntime session on an explain graph (graph optimisation on)."""

    def __init__(self, graph: ExplainGraph, options: ort.SessionOptions | None = None) -> None:
        self.graph = graph
        self.session = _session(graph.model, options)

    def run(self, image: np.ndarray, seed: np.ndarray, relu_rule: int = 0) -> ExplainResult:
        """Logits, input gradient and layer activations/gradients of sum(seed * logits)."""
        g = self.graph
        feeds: dict[str, np.ndarray] = {
            g.input_name: np.asarray(image, dtype=np.float32, order="C"),
            g.seed_name: np.asarray(seed, dtype=np.float32, order="C"),
            g.relu_rule_name: np.asarray(int(relu_rule), dtype=np.int64),
        }
        layers = list(g.layer_outputs.items())
        heads = [g.logits_name] + ([g.input_grad_name] if g.input_grad_name else [])
        names = heads + [n for _, outs in layers for n in (outs.activation, outs.gradient)]
        values = run_session(self.session, names, feeds)
        result = ExplainResult(values[0], values[1] if g.input_grad_name else None)
        for index, (layer, _) in enumerate(layers):
            result.activations[layer] = values[len(heads) + 2 * index]
            result.gradients[layer] = values[len(heads) + 2 * index + 1]
        return result


class FrozenForwardSession:
    """An onnxruntime session on a frozen forward graph (frozen.py), for the self-check."""

    def __init__(self, frozen: FrozenForward, options: ort.SessionOptions | None = None) -> None:
        self.frozen = frozen
        self.session = _session(frozen.model, options)

    def run(self, image: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Logits at `image` (G * B rows) on the branches of `base` (B rows)."""
        f = self.frozen
        return self.session.run([f.logits_name], {f.input_name: image, f.base_name: base})[0]
