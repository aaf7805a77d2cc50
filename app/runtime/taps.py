"""Forward runs that also return intermediate tensors ("taps"), for feature maps and the
forward-only methods. One extra session per set of layers, kept in the model's session cache."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from app.errors import UnknownLayerError
from app.runtime.cancellation import run_session
from app.runtime.derived import DerivedSessions
from app.runtime.sessions import SessionFactory


def tensor_names(model: onnx.ModelProto) -> set[str]:
    return {name for node in model.graph.node for name in node.output}


def with_outputs(model: onnx.ModelProto, layers: tuple[str, ...]) -> onnx.ModelProto:
    """A copy of `model` that also outputs `layers` (float tensors of any shape)."""
    tapped = onnx.ModelProto()
    tapped.CopyFrom(model)
    existing = {output.name for output in tapped.graph.output}
    for name in layers:
        if name not in existing:
            tapped.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
            )
    return tapped


class LayerTaps:
    """Runs one model and returns the logits and the named intermediate tensors."""

    def __init__(
        self,
        graph: onnx.ModelProto,
        input_name: str,
        sessions: SessionFactory,
        cache: DerivedSessions,
    ) -> None:
        self.graph = graph
        self.input_name = input_name
        self.sessions = sessions
        self.cache = cache
        self.known = tensor_names(graph)

    def run(
        self, batch: np.ndarray, layers: tuple[str, ...]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(logits (N, K), {layer: activation}) for a preprocessed batch."""
        unknown = [name for name in layers if name not in self.known]
        if unknown:
            raise UnknownLayerError(f"No layer named '{unknown[0]}' in this model.")
        session = self._session(layers)
        output_names = [self.graph.graph.output[0].name, *layers]
        values = run_session(session, output_names, {self.input_name: batch})
        return values[0], dict(zip(layers, values[1:], strict=True))

    def _session(self, layers: tuple[str, ...]) -> ort.InferenceSession:
        return self.cache.get(
            ("taps", layers), lambda: self.sessions.create(with_outputs(self.graph, layers))
        )
