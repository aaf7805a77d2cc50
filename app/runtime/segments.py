"""A model run in parts between its cuts (app/runtime/footprints.py): the image to the first
cut, one cut to the next, then the rest of the network to the logits. The parts before the
last cut take inputs of any spatial size (crops); the rest takes the last cut's full tensor.
Each chain of cuts is one entry of the model's session cache (all its sessions together)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from app.runtime.cancellation import run_session
from app.runtime.derived import DerivedSessions
from app.runtime.sessions import SessionFactory
from app.runtime.stem import StemGraph, constant_tensors
from app.runtime.tails import cut_at

PLANS = 32  # crop plans kept per model (one per image size and patch layout asked for)
Memo = TypeVar("Memo")


def segment_model(
    model: onnx.ModelProto, stem: StemGraph, source: str, target: str
) -> onnx.ModelProto:
    """The graph from the cut `source` to the cut `target`, with any spatial size in."""
    local = {node.output for node in stem.between(source, target)}
    constants = constant_tensors(model)
    kept = [node for node in model.graph.node if node.output[0] in local]
    needed = {name for node in kept for name in node.input} - {source}
    producers = [
        node
        for node in model.graph.node
        if set(node.output) <= constants and needed.intersection(node.output)
    ]  # Constant nodes (and what folds to them) that the kept nodes read
    needed.update(name for node in producers for name in node.input)
    chosen = {id(node) for node in [*producers, *kept]}
    nodes = [node for node in model.graph.node if id(node) in chosen]
    channels = stem.channels(source)
    graph = helper.make_graph(
        nodes,
        f"{model.graph.name}_{source}_to_{target}",
        [helper.make_tensor_value_info(source, TensorProto.FLOAT, ["N", channels, "H", "W"])],
        [helper.make_tensor_value_info(target, TensorProto.FLOAT, None)],
        [init for init in model.graph.initializer if init.name in needed],
    )
    segment = helper.make_model(graph, opset_imports=model.opset_import)
    segment.ir_version = model.ir_version
    return segment


@dataclass(frozen=True)
class Chain:
    """The sessions of a model cut at `cuts` (the image first): one per part between two
    consecutive cuts, and the rest of the network from the last cut."""

    cuts: tuple[str, ...]
    parts: tuple[ort.InferenceSession, ...]
    rest: ort.InferenceSession
    output: str

    def part(self, index: int, batch: np.ndarray) -> np.ndarray:
        """Cut `index + 1` of a batch of (crops of) cut `index`."""
        feeds = {self.cuts[index]: np.ascontiguousarray(batch, dtype=np.float32)}
        (values,) = run_session(self.parts[index], [self.cuts[index + 1]], feeds)
        return np.asarray(values)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Logits (N, K) of a batch of the last cut's full tensors."""
        feeds = {self.cuts[-1]: np.ascontiguousarray(batch, dtype=np.float32)}
        (values,) = run_session(self.rest, [self.output], feeds)
        return np.asarray(values, dtype=np.float32).reshape(len(batch), -1)


class Segments:
    """Chains of a model's sessions between its cuts, built on first use and cached."""

    def __init__(
        self,
        graph: onnx.ModelProto,
        shapes: dict[str, tuple[int, ...]],
        sessions: SessionFactory,
        cache: DerivedSessions,
    ) -> None:
        self.graph = graph
        self.shapes = shapes
        self.sessions = sessions
        self.cache = cache
        self._plans: DerivedSessions = DerivedSessions(PLANS)
        self._stem: StemGraph | None = None

    def memo(self, key: Hashable, work: Callable[[], Memo]) -> Memo:
        """`work()`, kept for the next call with `key` (the last PLANS keys): the crop plans
        of app/explain/crops.py, one per image size and patch layout."""
        return self._plans.get(key, work)

    @property
    def stem(self) -> StemGraph:
        """The model's local nodes and cuts (worked out on first use)."""
        if self._stem is None:
            self._stem = StemGraph(self.graph, self.shapes)
        return self._stem

    def chain(self, cuts: tuple[str, ...]) -> Chain:
        """The sessions for `cuts`: the image, then cuts of `stem.cuts` in graph order."""

        def build() -> Chain:
            parts = tuple(
                self.sessions.create(segment_model(self.graph, self.stem, source, target))
                for source, target in zip(cuts, cuts[1:], strict=False)
            )
            rest = self.sessions.create(cut_at(self.graph, cuts[-1]).model)
            return Chain(cuts, parts, rest, self.graph.graph.output[0].name)

        return self.cache.get(("segments", cuts), build)
