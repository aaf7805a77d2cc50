"""Torch module -> ONNX file checked against torch -> a store entry with its manifest."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from app.export.architectures import Architecture
from app.export.train import TrainResult
from app.store.manifest import MODEL_FILE, Manifest, sha256_of, write_manifest

OPSET = 17
TOLERANCE = 1e-4
INPUT_NAME, OUTPUT_NAME = "input", "logits"


@dataclass(frozen=True)
class ExportCheck:
    max_abs_diff: float


def export_onnx(model: nn.Module, example: torch.Tensor) -> bytes:
    """The model as ONNX bytes (opset 17, dynamic batch axis)."""
    buffer = io.BytesIO()
    torch.onnx.export(
        model.eval(),
        (example,),
        buffer,  # type: ignore[arg-type]  # a file object is accepted by the legacy exporter
        dynamo=False,
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
    )
    onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()), full_check=True)
    return buffer.getvalue()


def check_against_torch(model: nn.Module, onnx_bytes: bytes, batch: torch.Tensor) -> ExportCheck:
    """Run a batch through torch and onnxruntime; refuse the export if they differ."""
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    (ours,) = session.run(None, {INPUT_NAME: batch.numpy()})
    with torch.no_grad():
        reference = model.eval()(batch).numpy()
    diff = float(np.abs(ours - reference).max())
    if diff > TOLERANCE:
        raise ValueError(f"ONNX export differs from torch by {diff:.2e} (limit {TOLERANCE:.0e})")
    return ExportCheck(diff)


def next_version_folder(store: Path, name: str) -> Path:
    """store/name/<highest numeric version + 1>, created."""
    entry = store / name
    versions = [
        int(p.name)
        for p in entry.glob("*")
        if p.is_dir() and p.name.isascii() and p.name.isdecimal()
    ]
    folder = entry / str(max(versions, default=0) + 1)
    folder.mkdir(parents=True)
    return folder


def write_entry(onnx_bytes: bytes, manifest_fields: dict, store: Path) -> Path:
    """Write model.onnx and model.json (with its checksum) as a new version; return its folder."""
    folder = next_version_folder(store, manifest_fields["name"])
    (folder / MODEL_FILE).write_bytes(onnx_bytes)
    manifest = Manifest.model_validate(
        {**manifest_fields, "sha256": sha256_of(folder / MODEL_FILE)}
    )
    write_manifest(manifest, folder)
    return folder


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def trained_entry_fields(
    name: str,
    arch: Architecture,
    result: TrainResult,
    epochs: int,
    command: str,
    data_note: str,
) -> dict:
    """The manifest fields every trained model shares: input name and size, layers, provenance."""
    return {
        "name": name,
        "input": {
            "name": INPUT_NAME,
            "height": arch.input_size,
            "width": arch.input_size,
        },
        "layers": {"cam": arch.cam_layer, "features": list(arch.feature_layers)},
        "provenance": {
            "architecture": name,
            "data": data_note,
            "epochs": epochs,
            "validation_accuracy": round(result.validation_accuracy, 5),
            "train_seconds": round(result.train_seconds, 1),
            "parameters": sum(p.numel() for p in result.model.parameters()),
            "export_command": command,
            "created": utc_now(),
        },
    }
