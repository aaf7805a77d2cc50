"""The pictures and arrays of an explanation response: overlays, heatmaps, class maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.explain.base import ExplainInput, Explanation
from app.explain.options import ExplainOptions
from app.explain.response import ClassLegendEntry, ClassMap, HeatmapPicture
from app.imaging.heatmap import colour_picture, enlarged, npy_base64, overlay, png_base64
from app.imaging.tensors import input_picture
from app.store.manifest import ClassScore

# class-map colours: matplotlib's tab20 (the tab10 colours, then their light shades)
CLASS_COLOURS = (
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22",
    "17becf", "aec7e8", "ffbb78", "98df8a", "ff9896", "c5b0d5", "c49c94", "f7b6d2", "c7c7c7",
    "dbdb8d", "9edae5",
)  # fmt: skip


@dataclass
class Pictures:
    """The drawn parts of an explanation: the input, one picture per map, the class map."""

    input_png: str
    maps: list[HeatmapPicture]
    class_map: ClassMap | None
    raw_npy: str | None


def render_pictures(
    given: ExplainInput,
    explanation: Explanation,
    probabilities: np.ndarray,
    options: ExplainOptions,
) -> Pictures:
    """The input picture and each target's map, drawn as `options` say."""
    model, manifest = given.model, given.model.manifest
    picture = input_picture(given.image[0], model.spec, model.preprocessing)
    maps = []
    for heatmap, target in zip(explanation.heatmaps, given.targets, strict=True):
        score = ClassScore(
            index=target,
            label=manifest.labels[target],
            probability=float(probabilities[0, target]),
        )
        maps.append(_render(heatmap, picture, score, options, explanation.signed))
    class_map = explanation.extras.get("class_map")
    return Pictures(
        input_png=png_base64(enlarged(picture)),
        maps=maps,
        class_map=_class_map_figure(class_map, manifest.labels) if class_map else None,
        raw_npy=npy_base64(explanation.heatmaps) if options.raw == "npy" else None,
    )


def _class_map_figure(class_map: list[list[int]], labels: tuple[str, ...]) -> ClassMap:
    """The occlusion class map (H, W) as a picture, and a legend of the classes in it."""
    classes = np.asarray(class_map, dtype=np.intp)  # (H, W)
    table = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in CLASS_COLOURS], np.uint8)
    legend = [
        ClassLegendEntry(
            index=int(k), label=labels[k], colour="#" + CLASS_COLOURS[k % len(CLASS_COLOURS)]
        )
        for k in np.unique(classes)
    ]
    picture = enlarged(table[classes % len(CLASS_COLOURS)])
    return ClassMap(png=png_base64(picture), legend=legend)


def _render(
    heatmap: np.ndarray,
    picture: np.ndarray,
    target: ClassScore,
    options: ExplainOptions,
    signed: bool,
) -> HeatmapPicture:
    colormap = options.colormap_for(signed)
    raw = np.round(heatmap.astype(np.float64), 7).tolist() if options.raw == "json" else None
    return HeatmapPicture(
        target=target,
        overlay_png=png_base64(overlay(picture, heatmap, colormap, options.alpha)),
        heatmap_png=png_base64(colour_picture(heatmap, colormap)),
        min=float(heatmap.min()),
        max=float(heatmap.max()),
        colormap=colormap,
        raw=raw,
    )
