"""The checks an imported ONNX model must pass: a valid file, opset 13 or newer, one float
image input of rank 4 with 1 or 3 channels (NCHW or NHWC), and a run on a sample batch."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError

from app.export.presets import Preset
from app.runtime.sessions import SessionFactory

MIN_OPSET = 13


class ModelImportError(ValueError):
    """The model cannot be served as given; the message says why and what to do."""


@dataclass(frozen=True)
class ImportOptions:
    """What the command line says; unset fields come from the graph, then the preset."""

    name: str
    preset: str | None = None
    labels_file: Path | None = None
    size: tuple[int, int] | None = None  # (height, width)
    channels: int | None = None
    layout: str | None = None  # NCHW or NHWC
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    resize: str | None = None  # stretch or center_crop
    resize_shorter_to: int | None = None
    background: str | None = None
    description: str = ""


@dataclass(frozen=True)
class InputShape:
    name: str
    layout: str
    channels: int
    height: int
    width: int
    batch: int | None  # None: a dynamic batch axis


def load_onnx(source: Path) -> tuple[onnx.ModelProto, bytes]:
    """The parsed and checked model and its bytes as one file, with any external weights
    (`<file>.data` beside it, as torch's dynamo exporter may write them) folded in."""
    if not source.is_file():
        raise ModelImportError(f"{source}: no such file")
    data = source.read_bytes()
    try:
        model = onnx.load_from_string(data)
        if _has_external_data(model):
            onnx.external_data_helper.load_external_data_for_model(model, str(source.parent))
            data = model.SerializeToString()
        onnx.checker.check_model(model)
    except (DecodeError, ValueError, OSError, onnx.checker.ValidationError) as error:
        raise ModelImportError(f"{source.name} is not a valid ONNX model: {error}") from error
    if not model.graph.node or not model.graph.output:
        raise ModelImportError(f"{source.name} is not a valid ONNX model: its graph is empty")
    return model, data


def _has_external_data(model: onnx.ModelProto) -> bool:
    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


def check_opset(model: onnx.ModelProto) -> int:
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise ModelImportError(
            f"the model uses ONNX opset {opset}; Lantern imports opset {MIN_OPSET} or newer. "
            "Re-export it with opset_version=17, or convert it with "
            "onnx.version_converter.convert_version(model, 17)"
        )
    return opset


def input_shape(
    model: onnx.ModelProto, options: ImportOptions, preset: Preset | None, notes: list[str]
) -> InputShape:
    """The image input's layout, channels, size and batch axis, checked against the options."""
    value = _image_input(model)
    dims = [d.dim_value if d.HasField("dim_value") else None for d in _dims(value)]
    if len(dims) != 4:
        raise ModelImportError(
            f"input '{value.name}' has rank {len(dims)} (shape {_shown(dims)}); an image "
            "classifier takes (batch, channels, height, width) or (batch, height, width, channels)"
        )
    layout = options.layout or _detect_layout(dims)
    channel_dim, height_dim, width_dim = (1, 2, 3) if layout == "NCHW" else (3, 1, 2)
    if preset and dims[channel_dim] not in (None, preset.channels):
        raise ModelImportError(
            f"the preset '{options.preset}' is for {preset.channels}-channel images, "
            f"the model takes {dims[channel_dim]} channels ({layout} input {_shown(dims)})"
        )
    fallback = preset.channels if preset else None
    channels = _agree("channels", dims[channel_dim], options.channels, fallback)
    if channels not in (1, 3):
        raise ModelImportError(f"input '{value.name}' has {channels} channels, not 1 or 3")
    size = options.size or (None, None)
    fallback = preset.size if preset else None
    height = _agree("height", dims[height_dim], size[0], fallback)
    width = _agree("width", dims[width_dim], size[1], fallback)
    if preset and (height, width) != (preset.size, preset.size):
        notes.append(f"input {height}x{width}, not the preset's {preset.size}x{preset.size}")
    return InputShape(value.name, layout, channels, height, width, dims[0])


def _image_input(model: onnx.ModelProto) -> onnx.ValueInfoProto:
    initializers = {init.name for init in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(value.name for value in inputs)
        raise ModelImportError(
            f"the model has {len(inputs)} inputs ({names}); Lantern needs one image"
        )
    if inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise ModelImportError(f"input '{inputs[0].name}' is not float32")
    return inputs[0]


def _dims(value: onnx.ValueInfoProto) -> list[onnx.TensorShapeProto.Dimension]:
    return list(value.type.tensor_type.shape.dim)


def _shown(dims: list[int | None]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


def _detect_layout(dims: list[int | None]) -> str:
    if dims[1] in (1, 3):
        return "NCHW"
    if dims[3] in (1, 3):
        return "NHWC"
    raise ModelImportError(
        f"cannot tell the layout of input shape {_shown(dims)}: neither axis 1 nor axis 3 has "
        "1 or 3 channels; give --layout and --channels"
    )


def _agree(what: str, graph: int | None, option: int | None, fallback: int | None) -> int:
    """The graph's static size, else the option's, else the preset's; the graph and an option
    that disagree are refused."""
    if graph is not None and option is not None and graph != option:
        raise ModelImportError(f"the model's input {what} is {graph}, but {option} was given")
    value = graph or option or fallback
    if value is None:
        flag = "--channels" if what == "channels" else "--size"
        raise ModelImportError(f"the graph leaves the input {what} open: give {flag} or --preset")
    return value


def pin_input_size(
    model: onnx.ModelProto, data: bytes, shape: InputShape, notes: list[str]
) -> tuple[onnx.ModelProto, bytes]:
    """Write the resolved channels, height and width into an input that leaves them open, so
    that shape inference (and the gradient engine, which needs static shapes) sees them."""
    dims = _dims(_image_input(model))
    axes = (1, 2, 3) if shape.layout == "NCHW" else (3, 1, 2)
    sizes = dict(zip(axes, (shape.channels, shape.height, shape.width), strict=True))
    if all(dims[axis].HasField("dim_value") for axis in axes):
        return model, data
    pinned = onnx.ModelProto()
    pinned.CopyFrom(model)
    del pinned.graph.value_info[:]
    for axis, size in sizes.items():
        _dims(_image_input(pinned))[axis].dim_value = size
    notes.append(f"the graph left the input size open; fixed it at {shape.height}x{shape.width}")
    return pinned, pinned.SerializeToString()


def run_sample(
    model: onnx.ModelProto, data: bytes, shape: InputShape, notes: list[str]
) -> tuple[onnx.ModelProto, bytes, InputShape, int]:
    """Run a random batch of two; a fixed batch axis is freed when the graph allows it.
    Returns the model, its bytes, its input and the number of outputs per image."""
    if shape.batch is not None:
        model, data, shape = _fixed_batch(model, data, shape, notes)
    batch = shape.batch or 2
    outputs = _run(data, shape, batch)
    if outputs.shape[0] != batch:
        raise ModelImportError(f"a batch of {batch} gave {outputs.shape[0]} outputs")
    if not np.isfinite(outputs).all():
        notes.append("a random input gave non-finite outputs")
    return model, data, shape, int(np.prod(outputs.shape[1:]))


def _fixed_batch(
    model: onnx.ModelProto, data: bytes, shape: InputShape, notes: list[str]
) -> tuple[onnx.ModelProto, bytes, InputShape]:
    freed = _free_batch_axis(model)
    freed_data = freed.SerializeToString()
    try:
        pair = _run(freed_data, dataclasses.replace(shape, batch=None), 2)
        single = _run(data, shape, shape.batch or 1) if shape.batch == 1 else pair[:1]
        works = pair.shape[0] == 2 and np.allclose(pair[:1], single, atol=1e-4)
    except ModelImportError:
        works = False
    if works:
        notes.append(f"the batch axis was fixed at {shape.batch}; made it dynamic (checked)")
        return freed, freed_data, dataclasses.replace(shape, batch=None)
    if shape.batch != 1:
        raise ModelImportError(
            f"the batch axis is fixed at {shape.batch}; re-export with a dynamic batch axis"
        )
    notes.append("the batch axis is fixed at 1: several images per request will fail")
    return model, data, shape


def _run(data: bytes, shape: InputShape, batch: int) -> np.ndarray:
    session = _session(data)
    try:
        return np.asarray(session.run(None, {shape.name: _sample(shape, batch)})[0])
    except Exception as error:  # onnxruntime raises its own exception types
        message = f"onnxruntime cannot run it on a batch of {batch}: {error}"
        raise ModelImportError(message) from error


def _session(data: bytes) -> ort.InferenceSession:
    try:
        return SessionFactory().create(data)
    except Exception as error:  # onnxruntime raises its own exception types
        raise ModelImportError(f"onnxruntime cannot load it: {error}") from error


def _sample(shape: InputShape, batch: int) -> np.ndarray:
    dims = (shape.channels, shape.height, shape.width)
    if shape.layout == "NHWC":
        dims = (shape.height, shape.width, shape.channels)
    return np.random.default_rng(0).normal(size=(batch, *dims)).astype(np.float32)


def _free_batch_axis(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose input and output have a symbolic batch axis (shape hints dropped)."""
    freed = onnx.ModelProto()
    freed.CopyFrom(model)
    del freed.graph.value_info[:]
    for value in [*freed.graph.input, *freed.graph.output]:
        if _dims(value):
            _dims(value)[0].dim_param = "batch"
    return freed
