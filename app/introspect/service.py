"""Introspection for an API request: resolve layers and objectives against a loaded model,
run the pure units of this package, and shape the response bodies."""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Any

import numpy as np
from PIL import Image

from app.errors import APIError
from app.heatmap import display_size, npy_base64, png_base64
from app.imaging import ImageLimits, input_picture
from app.inference import preprocess_batch, top_k
from app.introspect import activation_maximisation as am
from app.introspect import feature_maps as fm
from app.introspect import filters
from app.introspect.layers import find_layer, static_shapes
from app.jobs import Job, Work
from app.store.loader import LoadedModel, softmax


def layer_shape(model: LoadedModel, layer: str) -> tuple[int, ...]:
    """Static shape (1, ...) of a tensor of the model; 422 unknown_layer otherwise."""
    shape = static_shapes(model.onnx_model).get(layer)
    if shape is None or find_layer(model.onnx_model, layer) is None:
        raise APIError(
            422, "unknown_layer", f"No layer '{layer}'; GET /models/{model.name}/layers lists them."
        )
    return shape


def default_layer(model: LoadedModel) -> str:
    """The manifest's first feature layer, else the CAM layer."""
    layer = next(iter(model.manifest.layers.features), None) or model.cam_layer
    if layer is None:
        raise APIError(422, "no_conv_layer", "This model has no default layer; name one.")
    return layer


def feature_maps_body(
    model: LoadedModel, blob: bytes, options: dict[str, Any], limits: ImageLimits
) -> dict[str, Any]:
    """The response of POST /models/{name}/feature_maps for one image."""
    layer = options["layer"] or default_layer(model)
    shape = layer_shape(model, layer)
    if len(shape) not in (2, 4):
        raise APIError(422, "unknown_layer", f"'{layer}' is not a (C, H, W) or (F,) layer.")
    batch = preprocess_batch(model, [blob], limits)  # (1, C, H, W)
    _, tapped = model.taps.run(batch, (layer,))
    maps = fm.as_maps(np.asarray(tapped[layer][0], dtype=np.float32))  # (C, H, W)
    order = fm.channel_order(maps, options["order"])
    body: dict[str, Any] = {
        "model": model.name,
        "version": model.version,
        "layer": layer,
        "shape": list(shape[1:]),
        "order": options["order"],
        "grid_png": png_base64(fm.feature_grid(maps, order, options["colormap"])),
        "channels": fm.channel_stats(maps, order),
    }
    raw = tapped[layer][0].astype(np.float32)
    if options["raw"] == "npy":
        body["raw_npy"] = npy_base64(raw)
    elif options["raw"] == "json":
        body["raw"] = np.round(raw.astype(np.float64), 7).tolist()
    return body


def filters_body(model: LoadedModel, layer: str | None, mode: filters.Mode) -> dict[str, Any]:
    """The response of GET /models/{name}/filters."""
    layer = layer or _first_conv(model)
    try:
        node = filters.conv_node(model.onnx_model, layer)
        weights = filters.conv_weights(model.onnx_model, node)  # (out, in, k_h, k_w)
        reads_image = node.input[0] == model.manifest.input.name
        chosen = filters.pick_mode(weights, reads_image, mode)
    except filters.FilterError as error:
        raise APIError(422, "unknown_layer", str(error)) from error
    return {
        "model": model.name,
        "version": model.version,
        "layer": node.output[0],
        "node": node.name,
        "shape": list(weights.shape),
        "mode": chosen,
        "grid_png": png_base64(filters.filter_grid(weights, chosen)),
    }


def _first_conv(model: LoadedModel) -> str:
    node = next((n for n in model.onnx_model.graph.node if n.op_type == "Conv"), None)
    if node is None:
        raise APIError(422, "no_conv_layer", "This model has no convolution.")
    return node.output[0]


def resolve_objective(
    model: LoadedModel, target: int | str | None, layer: str | None, channel: int | None
) -> tuple[dict[str, Any], am.GradientFn]:
    """(description, gradient function) of a class or channel objective."""
    if not model.engine.available:
        raise APIError(422, model.engine.error_code, model.engine.error or "")
    channels_last = model.manifest.input.layout == "NHWC"
    if target is not None:
        index = _class_index(model, target)
        label = model.manifest.labels[index]
        fn = am.class_gradient(model.engine.run, len(model.manifest.labels), index, channels_last)
        return {"kind": "class", "class": index, "label": label}, fn
    layer = layer or default_layer(model)
    shape = layer_shape(model, layer)
    if channel is None or not 0 <= channel < shape[1]:
        raise APIError(
            422, "invalid_parameter", f"channel must be in [0, {shape[1]}) for layer '{layer}'."
        )
    session = am.objective_session(model.onnx_model, layer)
    fn = am.channel_gradient(session, layer, shape, channel, channels_last)
    return {"kind": "channel", "layer": layer, "channel": channel}, fn


def _class_index(model: LoadedModel, target: int | str) -> int:
    labels = model.manifest.labels
    if isinstance(target, str) and target in labels:
        return labels.index(target)
    if isinstance(target, int) and 0 <= target < len(labels):
        return target
    raise APIError(
        422,
        "invalid_target",
        f"class '{target}' is neither a label nor an index below {len(labels)}.",
    )


def with_seed(params: am.AscentParams) -> am.AscentParams:
    """The parameters with a drawn seed when none was given (so every job is reproducible)."""
    if params.seed is not None:
        return params
    return am.AscentParams(**{**asdict(params), "seed": random.randrange(2**31)})


def activation_work(
    model: LoadedModel, fn: am.GradientFn, params: am.AscentParams, npy: bool
) -> Work:
    """The job that runs the ascent and renders its result."""
    manifest = model.manifest
    spec, pre = manifest.input, manifest.preprocess

    def work(job: Job) -> dict[str, Any]:
        rng = np.random.default_rng(params.seed)
        start = am.start_image((1, spec.channels, spec.height, spec.width), pre.mean, pre.std, rng)

        def on_step(step: int, value: float) -> None:
            job.check()
            job.report(step, value)

        bounds = am.pixel_bounds(pre.mean, pre.std)
        image, value, logits = am.ascend(fn, start, bounds, params, on_step)
        result: dict[str, Any] = {
            "png": png_base64(_picture(image[0], spec, pre)),
            "objective": value,
            "predictions": top_k(_probabilities(logits, manifest.output), manifest.labels, 3)[0],
        }
        if npy:
            result["npy"] = npy_base64(image[0])
        return result

    return work


def _picture(image: np.ndarray, spec, preprocess) -> Image.Image:
    """The image (C, H, W) in pixel space, enlarged for display."""
    pixels = input_picture(image, spec.model_copy(update={"layout": "NCHW"}), preprocess)
    picture = Image.fromarray(pixels)
    return picture.resize(display_size(spec.height, spec.width), Image.Resampling.NEAREST)


def _probabilities(logits: np.ndarray, output: str) -> np.ndarray:
    return logits if output == "probabilities" else softmax(logits)
