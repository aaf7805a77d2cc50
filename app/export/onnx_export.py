"""Torch module -> ONNX file checked against torch -> a store entry with its manifest."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from app.export.architectures import Architecture
from app.export.train import TrainResult
from app.runtime.sessions import SessionFactory
from app.store.layout import MODEL_FILE, sha256_of, write_manifest
from app.store.manifest import Manifest

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
    session = SessionFactory().create(onnx_bytes)
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


@dataclass(frozen=True)
class TrainingRun:
    """A finished training run, and what its manifest records of it."""

    name: str
    arch: Architecture
    result: TrainResult
    epochs: int
    command: str
    data_note: str
    trained_on: str | None = None  # in plain words, for people (data_note may name a folder)

    def entry_fields(
        self, channels: int, description: str, labels: Sequence[str], preprocess: dict
    ) -> dict:
        """Manifest fields (all but the checksum): the shared ones, and these."""
        return {
            "name": self.name,
            "description": f"{self.arch.summary} {description}",
            "labels": list(labels),
            "input": {
                "name": INPUT_NAME,
                "channels": channels,
                "height": self.arch.input_size,
                "width": self.arch.input_size,
            },
            "preprocess": preprocess,
            "layers": {"cam": self.arch.cam_layer, "features": list(self.arch.feature_layers)},
            "provenance": {
                "architecture": self.name,
                "data": self.data_note,
                "trained_on": self.trained_on,
                "epochs": self.epochs,
                "validation_accuracy": round(self.result.validation_accuracy, 5),
                "train_seconds": round(self.result.train_seconds, 1),
                "parameters": sum(p.numel() for p in self.result.model.parameters()),
                "export_command": self.command,
                "created": utc_now(),
            },
        }


def store_trained(run: TrainingRun, batch: torch.Tensor, fields: dict, store: Path) -> Path:
    """Export the trained model, check it against torch on `batch`, write the store entry."""
    onnx_bytes = export_onnx(run.result.model, batch[:2])
    check = check_against_torch(run.result.model, onnx_bytes, batch)
    print(f"ONNX matches torch on {len(batch)} images: max abs diff {check.max_abs_diff:.2e}")
    folder = write_entry(onnx_bytes, fields, store)
    print(f"validation accuracy {run.result.validation_accuracy:.4f}; wrote {folder}")
    return folder
