"""Running an explanation for an API request: targets, layer, the method, the pictures."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import numpy as np

from app.errors import ApiError
from app.explain.base import DEFAULT_BUDGET, ExplainInput, Method, MethodParams
from app.explain.faithfulness import faithfulness, faithfulness_passes
from app.heatmap import colour_picture, enlarged, overlay, png
from app.imaging import ImageLimits, input_picture
from app.inference import preprocess_batch, top_k
from app.store.loader import LoadedModel

MAX_TARGETS = 16
# class-map colours: matplotlib's tab20 (the tab10 colours, then their light shades)
CLASS_COLOURS = (
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22",
    "17becf", "aec7e8", "ffbb78", "98df8a", "ff9896", "c5b0d5", "c49c94", "f7b6d2", "c7c7c7",
    "dbdb8d", "9edae5",
)  # fmt: skip


def resolve_targets(requested: list[str], model: LoadedModel, probabilities: np.ndarray) -> list[int]:
    """Class indices from indices or labels; the top class when none is asked for."""
    if not requested:
        return [int(np.argmax(probabilities))]
    if len(requested) > MAX_TARGETS:
        raise ApiError(422, "invalid_target", f"At most {MAX_TARGETS} targets per request.")
    labels = model.manifest.labels
    return [_target_index(item, labels) for item in requested]


def _target_index(item: str, labels: tuple[str, ...]) -> int:
    if item in labels:
        return labels.index(item)
    if item.lstrip("-").isdigit() and 0 <= int(item) < len(labels):
        return int(item)
    raise ApiError(
        422, "invalid_target", f"Target '{item}' is neither a label nor an index below {len(labels)}."
    )


def resolve_layer(requested: str | None, model: LoadedModel, method: Method) -> str | None:
    if not method.uses_layer:
        return None
    layer = requested or model.cam_layer
    if layer is None:
        raise ApiError(422, "no_conv_layer", "This model has no convolution layer for CAMs.")
    if layer != model.cam_layer and layer not in model.conv_layers:
        raise ApiError(
            422, "unknown_layer", f"'{layer}' is not a conv layer; GET /models/{{name}} lists them."
        )
    return layer


def check_supported(method: Method, model: LoadedModel) -> None:
    if method.needs_gradients and not model.engine.available:
        raise ApiError(422, "gradients_unsupported", model.engine.error or "")


def explain_image(
    model: LoadedModel,
    method: Method,
    params: MethodParams,
    upload: tuple[bytes, bytes | None],
    options: dict[str, Any],
    limits: ImageLimits,
) -> dict[str, Any]:
    """The response body of /explain/{method} for one image."""
    started = time.perf_counter()
    image = preprocess_batch(model, [upload[0]], limits)  # (1, C, H, W)
    baseline = preprocess_batch(model, [upload[1]], limits) if upload[1] else None
    probabilities = model.probabilities(image)
    manifest = model.manifest
    given = ExplainInput(
        image=image,
        targets=resolve_targets(options["target"], model, probabilities[0]),
        engine=model.engine,
        classes=len(manifest.labels),
        layer=resolve_layer(options["layer"], model, method),
        channels_last=manifest.input.layout == "NHWC",
        baseline=baseline,
        pixel_mean=manifest.preprocess.mean,
        pixel_std=manifest.preprocess.std,
        forward=model.logits,
        tapped=model.taps.run,
        output=manifest.output,
        budget=options.get("max_forward_passes", DEFAULT_BUDGET),
    )
    curve_passes = _curve_passes(given, options)
    given.spend(curve_passes, "The faithfulness curves", "Ask for fewer steps or targets.")
    given.budget -= curve_passes
    prepared = time.perf_counter()
    explanation = method.explain(given, params)
    explained = time.perf_counter()
    curves = _curves(given, explanation.heatmaps, options) if curve_passes else []
    measured = time.perf_counter()
    picture = input_picture(image[0], manifest.input, manifest.preprocess)
    maps = [
        _render(heatmap, picture, options, explanation.signed)
        for heatmap in explanation.heatmaps
    ]
    for entry, target in zip(maps, given.targets, strict=True):
        entry["target"] = {
            "index": target,
            "label": manifest.labels[target],
            "probability": float(probabilities[0, target]),
        }
    for entry, curve in zip(maps, curves, strict=False):  # none unless asked for
        entry["faithfulness"] = curve
    finished = time.perf_counter()
    body: dict[str, Any] = {
        "model": model.name,
        "version": model.version,
        "layer": given.layer,
        "predictions": top_k(probabilities, manifest.labels, 5)[0],
        "input_png": base64.b64encode(png(enlarged(picture))).decode(),
        "maps": maps,
        "extras": explanation.extras,
        "parameters": params.model_dump(),
        "timing": {
            "preprocess_ms": (prepared - started) * 1000,
            "explain_ms": (explained - prepared) * 1000,
            "faithfulness_ms": (measured - explained) * 1000,
            "render_ms": (finished - measured) * 1000,
            "total_ms": (finished - started) * 1000,
        },
    }
    if "class_map" in explanation.extras:
        body["class_map"] = _class_map_figure(explanation.extras["class_map"], manifest.labels)
    if options["raw"] == "npy":
        body["raw_npy"] = _npy_base64(explanation.heatmaps)
    return body


def _curve_passes(given: ExplainInput, options: dict[str, Any]) -> int:
    """Forward passes the requested faithfulness curves take (0 when none are asked for)."""
    if not options.get("faithfulness"):
        return 0
    return faithfulness_passes(len(given.targets), options["faithfulness_steps"])


def _curves(given: ExplainInput, heatmaps: np.ndarray, options: dict[str, Any]) -> list[dict]:
    steps, substrate = options["faithfulness_steps"], options["faithfulness_substrate"]
    return faithfulness(given, heatmaps, steps, substrate)


def _class_map_figure(class_map: list[list[int]], labels: tuple[str, ...]) -> dict[str, Any]:
    """The occlusion class map (H, W) as a picture, and a legend of the classes in it."""
    classes = np.asarray(class_map, dtype=np.intp)  # (H, W)
    table = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in CLASS_COLOURS], np.uint8)
    legend = [
        {"index": int(k), "label": labels[k], "colour": "#" + CLASS_COLOURS[k % len(CLASS_COLOURS)]}
        for k in np.unique(classes)
    ]
    picture = enlarged(table[classes % len(CLASS_COLOURS)])
    return {"png": base64.b64encode(png(picture)).decode(), "legend": legend}


def _render(heatmap: np.ndarray, picture: np.ndarray, options: dict[str, Any], signed: bool) -> dict[str, Any]:
    colormap = "bwr" if signed and options["colormap"] == "auto" else options["colormap"]
    colormap = "viridis" if colormap == "auto" else colormap
    entry: dict[str, Any] = {
        "overlay_png": base64.b64encode(png(overlay(picture, heatmap, colormap, options["alpha"]))).decode(),
        "heatmap_png": base64.b64encode(png(colour_picture(heatmap, colormap))).decode(),
        "min": float(heatmap.min()),
        "max": float(heatmap.max()),
        "colormap": colormap,
    }
    if options["raw"] == "json":
        entry["raw"] = np.round(heatmap.astype(np.float64), 7).tolist()
    return entry


def _npy_base64(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array.astype(np.float32), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()
