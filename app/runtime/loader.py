"""Load the model store: every entry becomes a warm `RunningModel`, or is refused with a clear
log line (a broken entry never stops the others serving)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from pydantic import ValidationError

from app.runtime.derived import DerivedSessions
from app.runtime.engine import GradientEngine
from app.runtime.layers import LayerIndex
from app.runtime.memory import release_free_memory
from app.runtime.model import LoadFacts, RunningModel
from app.runtime.registry import ModelRegistry
from app.runtime.samples import load_samples
from app.runtime.segments import Segments
from app.runtime.sessions import SessionFactory
from app.runtime.tails import LayerTails
from app.runtime.taps import LayerTaps
from app.store.layout import MODEL_FILE, entry_folders, read_manifest, sha256_of
from app.store.manifest import InputSpec, Manifest, Preprocess, Provenance

log = logging.getLogger("lantern.store")


class StoreEntryError(Exception):
    """A store entry that cannot be served, and why."""


@dataclass(frozen=True)
class LoadOptions:
    """How models are loaded: the session factory, warm-up runs, the derived-session cache,
    and whether the default explain graphs are built at load (else on first use)."""

    sessions: SessionFactory = SessionFactory()
    warmup_runs: int = 1
    cached_sessions: int = 16
    samples: Path | None = None  # the folder of each model's sample pictures, by model name
    eager_explain_graphs: bool = True


def load_store(root: Path, options: LoadOptions | None = None) -> ModelRegistry:
    """Load every entry under `root`; a broken entry is logged and skipped, the rest serve."""
    options = options or LoadOptions()
    registry = ModelRegistry()
    if not root.is_dir():
        log.error("model store %s does not exist; serving no models", root)
        return registry
    for name, version, folder in entry_folders(root):
        try:
            registry.add(load_entry(name, version, folder, options))
            log.info("loaded model %s version %d", name, version)
        except Exception as error:  # an unreadable entry must not stop the others serving
            reason = str(error) if isinstance(error, StoreEntryError) else repr(error)
            registry.refused[f"{name}/{version}"] = reason
            log.error("refused model %s version %d: %s", name, version, reason)
    release_free_memory()  # the files read and the graphs parsed on the way
    return registry


def load_entry(name: str, version: int, folder: Path, options: LoadOptions) -> RunningModel:
    """One checked store entry, loaded and warm."""
    started = time.perf_counter()
    manifest = _checked_manifest(name, folder)
    model_bytes = (folder / MODEL_FILE).read_bytes()
    try:
        graph = onnx.load_from_string(model_bytes)
        session = options.sessions.create(model_bytes)
        outputs = warm_up(session, manifest.input, options.warmup_runs)
    except Exception as error:  # onnxruntime raises its own exception types
        raise StoreEntryError(f"onnxruntime cannot run it: {error}") from error
    if outputs.shape != (2, len(manifest.labels)):
        raise StoreEntryError(
            f"a batch of 2 gives outputs shaped {outputs.shape}, not (2, {len(manifest.labels)}): "
            "the batch axis must be dynamic and there must be one label per output"
        )
    return running_model(name, version, manifest, graph, session, options, started)


def load_graph(
    graph: onnx.ModelProto, manifest: Manifest, options: LoadOptions | None = None
) -> RunningModel:
    """A running model straight from a graph and its manifest, with no store folder (for
    checks at import time, benchmarks and tests)."""
    options = options or LoadOptions()
    session = options.sessions.create(graph)
    return running_model(manifest.name, 1, manifest, graph, session, options, time.perf_counter())


def bare_manifest(graph: onnx.ModelProto, name: str = "graph") -> Manifest:
    """A manifest for a graph that has none: its input as it is, pixels taken as given (mean
    0, std 1), one numbered label per output, the last conv layer for CAMs."""
    initializers = {init.name for init in graph.graph.initializer}
    image = next(value for value in graph.graph.input if value.name not in initializers)
    channels, height, width = (d.dim_value for d in image.type.tensor_type.shape.dim[1:])
    classes = graph.graph.output[0].type.tensor_type.shape.dim[-1].dim_value
    return Manifest(
        name=name,
        labels=tuple(str(i) for i in range(classes)),
        input=InputSpec(name=image.name, channels=channels, height=height, width=width),
        preprocess=Preprocess(mean=(0.0,) * channels, std=(1.0,) * channels),
        sha256="0" * 64,
        provenance=Provenance(
            architecture="unknown", data="unknown", export_command="none", created="unknown"
        ),
    )


def running_model(
    name: str,
    version: int,
    manifest: Manifest,
    graph: onnx.ModelProto,
    session: ort.InferenceSession,
    options: LoadOptions,
    started: float,
) -> RunningModel:
    """Assemble a model's engine, taps and layer index around its forward session."""
    layers = LayerIndex.of(graph, manifest.layers.cam)
    cache = DerivedSessions(options.cached_sessions)
    cam = (layers.cam_layer,) if layers.cam_layer else ()
    eager = options.eager_explain_graphs
    engine = GradientEngine(graph, options.sessions, cache, cam, eager)
    forward, shape = logits_of(session, graph, manifest), manifest.input.batch_shape(1)[1:]
    if eager:
        engine.verify(forward, shape)  # so /health/ready means checked
    else:
        engine.verify_on_first_use(forward, shape, f"model {name} version {version}")
    if engine.error:
        log.warning("model %s version %d: gradient methods off: %s", name, version, engine.error)
    parameters = sum(int(np.prod(t.dims)) for t in graph.graph.initializer)
    return RunningModel(
        name=name,
        version=version,
        manifest=manifest,
        graph=graph,
        session=session,
        engine=engine,
        taps=LayerTaps(graph, manifest.input.name, options.sessions, cache),
        tails=LayerTails(graph, options.sessions, cache),
        segments=Segments(graph, layers.shapes, options.sessions, cache),
        layers=layers,
        facts=LoadFacts(parameters, time.perf_counter() - started),
        samples=load_samples(options.samples, manifest),
    )


def logits_of(
    session: ort.InferenceSession, graph: onnx.ModelProto, manifest: Manifest
) -> Callable[[np.ndarray], np.ndarray]:
    """The forward session as a function from an input batch to its logits."""
    output, name = graph.graph.output[0].name, manifest.input.name
    return lambda batch: session.run([output], {name: batch})[0]


def warm_up(session: ort.InferenceSession, spec: InputSpec, runs: int) -> np.ndarray:
    """Run a blank batch of 2 `runs` times (at least once) and return the last outputs: the
    loader checks their shape, so the batch axis must be dynamic."""
    batch = {spec.name: np.zeros(spec.batch_shape(2), dtype=np.float32)}
    outputs = session.run(None, batch)[0]
    for _ in range(runs - 1):
        outputs = session.run(None, batch)[0]
    return np.asarray(outputs)


def _checked_manifest(name: str, folder: Path) -> Manifest:
    if not (folder / MODEL_FILE).is_file():
        raise StoreEntryError(f"{MODEL_FILE} is missing")
    try:
        manifest = read_manifest(folder)
    except FileNotFoundError as error:
        raise StoreEntryError("model.json is missing") from error
    except ValidationError as error:
        raise StoreEntryError(
            f"model.json is invalid: {error.error_count()} problem(s): {error}"
        ) from error
    if manifest.name != name:
        raise StoreEntryError(f"model.json names '{manifest.name}', the folder '{name}'")
    actual = sha256_of(folder / MODEL_FILE)
    if actual != manifest.sha256:
        raise StoreEntryError(
            f"sha256 mismatch: manifest {manifest.sha256[:12]}..., file {actual[:12]}..."
        )
    return manifest
