"""Forward runs that also return intermediate tensors ("taps"), for feature maps and the
forward-only methods. One extra onnxruntime session per set of layers, built on first use."""

from __future__ import annotations

import threading

import numpy as np
import onnx
import onnxruntime as ort

from app.cancellation import run_session
from app.errors import APIError
from app.store.sessions import create_session

MAX_CACHED_LAYER_SETS = 8


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

    def __init__(self, model: onnx.ModelProto, input_name: str, threads: int = 0) -> None:
        self.model = model
        self.input_name = input_name
        self.threads = threads
        self.known = tensor_names(model)
        self._sessions: dict[tuple[str, ...], ort.InferenceSession] = {}
        self._lock = threading.Lock()

    def run(
        self, batch: np.ndarray, layers: tuple[str, ...]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(logits (N, K), {layer: activation}) for a preprocessed batch."""
        unknown = [name for name in layers if name not in self.known]
        if unknown:
            raise APIError(422, "unknown_layer", f"No layer named '{unknown[0]}' in this model.")
        session = self._session(layers)
        output_names = [self.model.graph.output[0].name, *layers]
        values = run_session(session, output_names, {self.input_name: batch})
        return values[0], dict(zip(layers, values[1:], strict=True))

    def _session(self, layers: tuple[str, ...]) -> ort.InferenceSession:
        with self._lock:
            if layers not in self._sessions:
                if len(self._sessions) >= MAX_CACHED_LAYER_SETS:
                    self._sessions.pop(next(iter(self._sessions)))
                model_bytes = with_outputs(self.model, layers).SerializeToString()
                self._sessions[layers] = create_session(model_bytes, self.threads)
            return self._sessions[layers]
