"""The pictures and arrays of an explanation response: overlays, heatmaps, class maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.explain.base import ExplainInput, Explanation
from app.heatmap import colour_picture, enlarged, npy_base64, overlay, png_base64
from app.imaging import input_picture
from app.inference import top_k
from app.store.loader import LoadedModel

# class-map colours: matplotlib's tab20 (the tab10 colours, then their light shades)
CLASS_COLOURS = (
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22",
    "17becf", "aec7e8", "ffbb78", "98df8a", "ff9896", "c5b0d5", "c49c94", "f7b6d2", "c7c7c7",
    "dbdb8d", "9edae5",
)  # fmt: skip


def render_explanation(
    model: LoadedModel,
    given: ExplainInput,
    explanation: Explanation,
    probabilities: np.ndarray,
    options: dict[str, Any],
) -> dict[str, Any]:
    """Everything of the response but parameters and timing."""
    manifest = model.manifest
    picture = input_picture(given.image[0], manifest.input, manifest.preprocess)
    maps = [
        _render(heatmap, picture, options, explanation.signed) for heatmap in explanation.heatmaps
    ]
    for entry, target in zip(maps, given.targets, strict=True):
        entry["target"] = {
            "index": target,
            "label": manifest.labels[target],
            "probability": float(probabilities[0, target]),
        }
    body: dict[str, Any] = {
        "model": model.name,
        "version": model.version,
        "layer": given.layer,
        "predictions": top_k(probabilities, manifest.labels, 5)[0],
        "input_png": png_base64(enlarged(picture)),
        "maps": maps,
        "extras": explanation.extras,
    }
    if "class_map" in explanation.extras:
        body["class_map"] = _class_map_figure(explanation.extras["class_map"], manifest.labels)
    if options["raw"] == "npy":
        body["raw_npy"] = npy_base64(explanation.heatmaps)
    return body


def _class_map_figure(class_map: list[list[int]], labels: tuple[str, ...]) -> dict[str, Any]:
    """The occlusion class map (H, W) as a picture, and a legend of the classes in it."""
    classes = np.asarray(class_map, dtype=np.intp)  # (H, W)
    table = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in CLASS_COLOURS], np.uint8)
    legend = [
        {"index": int(k), "label": labels[k], "colour": "#" + CLASS_COLOURS[k % len(CLASS_COLOURS)]}
        for k in np.unique(classes)
    ]
    picture = enlarged(table[classes % len(CLASS_COLOURS)])
    return {"png": png_base64(picture), "legend": legend}


def _render(
    heatmap: np.ndarray, picture: np.ndarray, options: dict[str, Any], signed: bool
) -> dict[str, Any]:
    colormap = "bwr" if signed and options["colormap"] == "auto" else options["colormap"]
    colormap = "viridis" if colormap == "auto" else colormap
    entry: dict[str, Any] = {
        "overlay_png": png_base64(overlay(picture, heatmap, colormap, options["alpha"])),
        "heatmap_png": png_base64(colour_picture(heatmap, colormap)),
        "min": float(heatmap.min()),
        "max": float(heatmap.max()),
        "colormap": colormap,
    }
    if options["raw"] == "json":
        entry["raw"] = np.round(heatmap.astype(np.float64), 7).tolist()
    return entry
