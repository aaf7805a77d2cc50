"""Import an ONNX image classifier made elsewhere (torchvision, timm, Keras via tf2onnx) into
the store: check it (import_checks), report what Lantern can explain, write the entry."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from pydantic import ValidationError

from app.errors import validation_message
from app.explain.base import Method
from app.explain.registry import METHODS
from app.export import onnx_export
from app.export.import_checks import (
    ImportOptions,
    InputShape,
    ModelImportError,
    check_opset,
    input_shape,
    load_onnx,
    pin_input_size,
    run_sample,
)
from app.export.presets import PRESETS, Preset, read_labels
from app.gradients import path_op_counts, unsupported_ops
from app.gradients.self_check import SelfCheck
from app.runtime.derived import DerivedSessions
from app.runtime.engine import GradientEngine
from app.runtime.layers import default_cam_layer
from app.runtime.sessions import SessionFactory
from app.store.manifest import Manifest


@dataclass
class ImportReport:
    """What the import found, for the person running it."""

    folder: Path
    input: InputShape
    opset: int
    classes: int
    cam_layer: str | None
    unsupported: list[tuple[str, str]]
    gradient_error: str | None
    methods: list[str]
    notes: list[str] = field(default_factory=list)
    path_ops: dict[str, int] = field(default_factory=dict)  # op type -> nodes on the path
    self_check: SelfCheck | None = None


def import_model(source: Path, options: ImportOptions, store: Path, command: str) -> ImportReport:
    """Check `source` and write it to `store` as a new version of `options.name`."""
    notes: list[str] = []
    preset = _preset(options.preset)
    model, data = load_onnx(source)
    opset = check_opset(model)
    shape = input_shape(model, options, preset, notes)
    model, data = pin_input_size(model, data, shape, notes)
    model, data, shape, classes = run_sample(model, data, shape, notes)
    labels = resolve_labels(options, preset, classes)
    cam_layer = pick_cam_layer(model)
    coverage = gradient_coverage(model, cam_layer, data, shape)
    fields = manifest_fields(source, model, options, preset, shape, labels, cam_layer, command)
    _validate(fields)
    folder = onnx_export.write_entry(data, fields, store)
    methods = [key for key, method in METHODS.items() if _works(method, coverage.error, cam_layer)]
    return ImportReport(
        folder, shape, opset, classes, cam_layer, coverage.unsupported, coverage.error,
        methods, notes, coverage.path_ops, coverage.self_check,
    )  # fmt: skip


def _preset(name: str | None) -> Preset | None:
    if name is None:
        return None
    if name not in PRESETS:
        raise ModelImportError(f"unknown preset '{name}' (known: {', '.join(sorted(PRESETS))})")
    return PRESETS[name]


def resolve_labels(options: ImportOptions, preset: Preset | None, classes: int) -> tuple[str, ...]:
    if options.labels_file is not None:
        if not options.labels_file.is_file():
            raise ModelImportError(f"{options.labels_file}: no such labels file")
        labels, origin = read_labels(options.labels_file), str(options.labels_file)
    elif preset is not None:
        labels, origin = preset.default_labels(), f"the preset '{options.preset}'"
    else:
        raise ModelImportError("give the class names: --labels FILE (one a line) or --preset")
    if len(labels) != classes:
        raise ModelImportError(
            f"{origin} has {len(labels)} labels, but the model gives {classes} outputs per image"
        )
    return labels


def pick_cam_layer(model: onnx.ModelProto) -> str | None:
    """The input of the last GlobalAveragePool (the last feature map: where pytorch-grad-cam
    takes a ResNet's CAM, after the residual sum), else the last conv layer (layers.py)."""
    pools = [node for node in model.graph.node if node.op_type == "GlobalAveragePool"]
    return pools[-1].input[0] if pools else default_cam_layer(model, None)


@dataclass
class GradientCoverage:
    """What the gradient engine makes of a model: ops on its gradient path, those without a
    rule, the self-check, and why gradient methods are off (or None)."""

    unsupported: list[tuple[str, str]]
    error: str | None
    path_ops: dict[str, int] = field(default_factory=dict)
    self_check: SelfCheck | None = None


def gradient_coverage(
    model: onnx.ModelProto, cam_layer: str | None, data: bytes, shape: InputShape
) -> GradientCoverage:
    """Trace the gradient path, build the explain graphs and run the self-check against a
    forward session of the model (`data`)."""
    try:
        unsupported, path_ops = unsupported_ops(model), path_op_counts(model)
    except Exception as error:  # the engine's own analysis failed on this graph
        return GradientCoverage([], f"the gradient path could not be traced ({error})")
    sessions = SessionFactory()
    engine = GradientEngine(model, sessions, DerivedSessions(), (cam_layer,) if cam_layer else ())
    forward = sessions.create(data)
    name = forward.get_inputs()[0].name
    dims = (shape.channels, shape.height, shape.width)
    input_shape = dims if shape.layout == "NCHW" else (shape.height, shape.width, shape.channels)
    check = engine.verify(lambda batch: forward.run(None, {name: batch})[0], input_shape)
    return GradientCoverage(unsupported, engine.error, path_ops, check)


def _works(method: Method, gradient_error: str | None, cam_layer: str | None) -> bool:
    if method.needs_gradients and gradient_error:
        return False
    return cam_layer is not None or not method.uses_layer


def manifest_fields(
    source: Path,
    model: onnx.ModelProto,
    options: ImportOptions,
    preset: Preset | None,
    shape: InputShape,
    labels: tuple[str, ...],
    cam_layer: str | None,
    command: str,
) -> dict:
    """Manifest fields (all but the checksum) of an imported model."""
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p) or "unknown"
    return {
        "name": options.name,
        "description": options.description or f"Imported from {source.name} ({producer}).",
        "labels": labels,
        "input": {
            "name": shape.name,
            "channels": shape.channels,
            "height": shape.height,
            "width": shape.width,
            "layout": shape.layout,
        },
        "output": "probabilities" if _ends_in_softmax(model) else "logits",
        "preprocess": preprocess(options, preset, shape),
        "layers": {"cam": cam_layer, "features": [cam_layer] if cam_layer else []},
        "provenance": {
            "architecture": model.graph.name or source.stem,
            "data": f"unknown: imported from {source.name} (producer {producer})",
            "parameters": sum(int(np.prod(t.dims)) for t in model.graph.initializer),
            "export_command": command,
            "created": onnx_export.utc_now(),
        },
    }


def preprocess(options: ImportOptions, preset: Preset | None, shape: InputShape) -> dict:
    """The manifest's preprocess: explicit options over the preset over neutral defaults."""
    base = dataclasses.asdict(preset) if preset else {}
    mean = _per_channel("mean", options.mean or base.get("mean") or (0.0,), shape.channels)
    std = _per_channel("std", options.std or base.get("std") or (1.0,), shape.channels)
    resize = options.resize or base.get("resize", "stretch")
    shorter = options.resize_shorter_to or base.get("resize_shorter_to")
    if resize == "center_crop" and shorter and preset and not options.resize_shorter_to:
        shorter = round(shorter * min(shape.height, shape.width) / preset.size)
    return {
        "resize": resize,
        "resize_shorter_to": shorter if resize == "center_crop" else None,
        "mean": mean,
        "std": std,
        "background": options.background or base.get("background", "black"),
        "digit": base.get("digit") if shape.channels == 1 else None,
    }


def _per_channel(what: str, values: tuple[float, ...], channels: int) -> tuple[float, ...]:
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ModelImportError(f"--{what} has {len(values)} values for {channels} channel(s)")
    if max(abs(v) for v in values) > 1.5:
        raise ModelImportError(f"--{what} is on the [0, 1] pixel scale: divide 0-255 values by 255")
    return tuple(values)


def _ends_in_softmax(model: onnx.ModelProto) -> bool:
    output = model.graph.output[0].name
    return any(n.op_type == "Softmax" and output in n.output for n in model.graph.node)


def _validate(fields: dict) -> None:
    try:
        Manifest.model_validate({**fields, "sha256": "0" * 64})
    except ValidationError as error:
        problems = validation_message(error.errors())
        raise ModelImportError(f"the manifest would be invalid: {problems}") from error
