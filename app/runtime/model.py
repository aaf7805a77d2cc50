"""The running model: one servable model version with everything it runs on, and the
operations the methods, introspection and the API ask of it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort

from app.errors import UnknownLayerError
from app.imaging.decode import ImageLimits
from app.imaging.prepare import PreparedImage, prepare_images, preprocess_batch
from app.runtime.cancellation import run_session
from app.runtime.engine import GradientEngine
from app.runtime.layers import LayerIndex, Shape
from app.runtime.segments import Segments
from app.runtime.tails import LayerTails
from app.runtime.taps import LayerTaps
from app.store.manifest import InputSpec, Manifest, Preprocess


@dataclass(frozen=True)
class LoadFacts:
    """What loading found: the weights' size and how long loading took."""

    parameters: int
    seconds: float


@dataclass(eq=False)
class RunningModel:
    """A model version, loaded and warm: its manifest, graph and forward session, its gradient
    engine, its layer taps, the network from a layer on (tails), the network in parts between
    its cuts (segments) and its layer index. Every session it runs is made by the one
    `SessionFactory`; the sessions derived from it (explain graphs, taps, tails, segments)
    share one cache."""

    name: str
    version: int
    manifest: Manifest
    graph: onnx.ModelProto
    session: ort.InferenceSession
    engine: GradientEngine
    taps: LayerTaps
    tails: LayerTails
    segments: Segments
    layers: LayerIndex
    facts: LoadFacts
    samples: np.ndarray | None = None  # the model's own sample pictures as inputs, if shipped

    @property
    def spec(self) -> InputSpec:
        return self.manifest.input

    @property
    def preprocessing(self) -> Preprocess:
        return self.manifest.preprocess

    def __post_init__(self) -> None:
        # read once: a lookup in the graph's protobuf costs microseconds on every request
        self._output_name = self.graph.graph.output[0].name

    @property
    def output_name(self) -> str:
        return self._output_name

    def preprocess(self, blobs: list[bytes], limits: ImageLimits) -> np.ndarray:
        """Encoded images -> the model's input batch (N, C, H, W) (or NHWC)."""
        return preprocess_batch(blobs, self.manifest, limits)

    def prepare(self, blobs: list[bytes], limits: ImageLimits) -> list[PreparedImage]:
        """Encoded images -> each one's input, region of the upload, and hints."""
        return prepare_images(blobs, self.manifest, limits)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw outputs (N, K) for a preprocessed batch."""
        (outputs,) = run_session(self.session, [self.output_name], {self.spec.name: batch})
        return np.asarray(outputs, dtype=np.float32).reshape(len(batch), -1)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        return self.manifest.probabilities(self.logits(batch))

    def layer_shape(self, layer: str) -> Shape:
        """Static shape (1, ...) of a computed tensor of the model; UnknownLayerError if none."""
        shape = self.layers.shapes.get(layer)
        if shape is None or layer not in self.taps.known:
            raise UnknownLayerError(
                f"No layer '{layer}'; GET /models/{self.name}/layers lists them."
            )
        return shape
