"""Load every entry of the model store; refuse the broken ones with a clear log line."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from pydantic import ValidationError

from app.cancellation import run_session
from app.explain.engine import GradientEngine
from app.explain.layers import conv_layers, default_cam_layer
from app.store.manifest import MODEL_FILE, Manifest, read_manifest, sha256_of
from app.store.sessions import blank_batch, create_session, warm_up
from app.store.taps import LayerTaps

log = logging.getLogger("lantern.store")


class StoreEntryError(Exception):
    """A store entry that cannot be served, and why."""


@dataclass
class LoadedModel:
    """One servable model version: its manifest and its warm onnxruntime session."""

    name: str
    version: int
    manifest: Manifest
    session: ort.InferenceSession
    onnx_model: onnx.ModelProto
    parameters: int
    load_seconds: float
    engine: GradientEngine
    taps: LayerTaps
    cam_layer: str | None
    conv_layers: list[str]

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw outputs (N, K) for a preprocessed batch (N, C, H, W)."""
        (outputs,) = run_session(self.session, None, {self.manifest.input.name: batch})[:1]
        return np.asarray(outputs, dtype=np.float32).reshape(len(batch), -1)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        outputs = self.logits(batch)
        if self.manifest.output == "probabilities":
            return outputs
        return softmax(outputs)


def _logits(session: ort.InferenceSession, manifest: Manifest, batch: np.ndarray) -> np.ndarray:
    return np.asarray(session.run(None, {manifest.input.name: batch})[0])


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))  # (N, K)
    return shifted / shifted.sum(axis=1, keepdims=True)


def entry_folders(root: Path) -> list[tuple[str, int, Path]]:
    """(name, version, folder) of every `root/<name>/<numeric version>/` folder."""
    found = []
    for model_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for version_dir in model_dir.iterdir():
            if version_dir.is_dir() and version_dir.name.isascii() and version_dir.name.isdecimal():
                found.append((model_dir.name, int(version_dir.name), version_dir))
    return sorted(found, key=lambda item: (item[0], item[1]))


def load_entry(
    name: str, version: int, folder: Path, threads: int, warmup_runs: int
) -> LoadedModel:
    started = time.perf_counter()
    manifest = _checked_manifest(name, folder)
    model_bytes = (folder / MODEL_FILE).read_bytes()
    try:
        onnx_model = onnx.load_from_string(model_bytes)
        session = create_session(model_bytes, threads)
        outputs = warm_up(session, manifest.input, warmup_runs)
    except Exception as error:  # onnxruntime raises its own exception types
        raise StoreEntryError(f"onnxruntime cannot run it: {error}") from error
    if outputs.shape != (2, len(manifest.labels)):
        raise StoreEntryError(
            f"a batch of 2 gives outputs shaped {outputs.shape}, not (2, {len(manifest.labels)}): "
            "the batch axis must be dynamic and there must be one label per output"
        )
    parameters = sum(int(np.prod(t.dims)) for t in onnx_model.graph.initializer)
    cam_layer = default_cam_layer(onnx_model, manifest.layers.cam)
    engine = GradientEngine(onnx_model, (cam_layer,) if cam_layer else (), threads)
    input_shape = blank_batch(manifest.input).shape[1:]
    engine.verify(lambda batch: _logits(session, manifest, batch), input_shape)
    if engine.error:
        log.warning("model %s version %d: gradient methods off: %s", name, version, engine.error)
    return LoadedModel(
        name=name,
        version=version,
        manifest=manifest,
        session=session,
        onnx_model=onnx_model,
        parameters=parameters,
        load_seconds=time.perf_counter() - started,
        engine=engine,
        taps=LayerTaps(onnx_model, manifest.input.name, threads),
        cam_layer=cam_layer,
        conv_layers=conv_layers(onnx_model),
    )


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
