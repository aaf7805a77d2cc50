"""Introspection for a request: resolve layers and objectives against a running model, run the
pure units of this package, and shape the answers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
from PIL import Image

from app.errors import InvalidParameterError, NoConvLayerError, UnknownLayerError
from app.imaging.decode import ImageLimits
from app.imaging.heatmap import display_size, npy_base64, png_base64
from app.imaging.tensors import input_picture
from app.introspect import activation_maximisation as am
from app.introspect import feature_maps as fm
from app.introspect import filters
from app.introspect.layers import graph_layers
from app.introspect.response import (
    ChannelStat,
    FeatureMaps,
    FilterGrid,
    LayerInfo,
    LayerList,
    Summary,
    SummaryRow,
)
from app.introspect.summary import summarise
from app.runtime.jobs import JobProgress
from app.runtime.model import RunningModel


@dataclass(frozen=True)
class FeatureMapOptions:
    """What POST /models/{name}/feature_maps may ask for."""

    layer: str | None = None
    order: fm.Order = "none"
    raw: Literal["none", "npy", "json"] = "none"
    colormap: str = "viridis"


def layer_list(model: RunningModel, everything: bool) -> LayerList:
    layers = graph_layers(model.graph, model.layers.shapes, everything)
    return LayerList(layers=[LayerInfo.model_validate(layer.as_dict()) for layer in layers])


def summary(model: RunningModel) -> Summary:
    body = summarise(model.graph, model.layers.shapes)
    rows = [SummaryRow.model_validate(row) for row in body.pop("rows")]
    return Summary(model=model.name, version=model.version, rows=rows, **body)


def default_layer(model: RunningModel) -> str:
    """The manifest's first feature layer, else the CAM layer."""
    layer = next(iter(model.manifest.layers.features), None) or model.layers.cam_layer
    if layer is None:
        raise NoConvLayerError("This model has no default layer; name one.")
    return layer


def feature_maps(
    model: RunningModel, blob: bytes, options: FeatureMapOptions, limits: ImageLimits
) -> FeatureMaps:
    """The answer of POST /models/{name}/feature_maps for one image."""
    layer = options.layer or default_layer(model)
    shape = model.layer_shape(layer)
    if len(shape) not in (2, 4):
        raise UnknownLayerError(f"'{layer}' is not a (C, H, W) or (F,) layer.")
    batch = model.preprocess([blob], limits)  # (1, C, H, W)
    _, tapped = model.taps.run(batch, (layer,))
    raw = np.asarray(tapped[layer][0], dtype=np.float32)
    maps = fm.as_maps(raw)  # (C, H, W)
    order = fm.channel_order(maps, options.order)
    return FeatureMaps(
        model=model.name,
        version=model.version,
        layer=layer,
        shape=list(shape[1:]),
        order=options.order,
        grid_png=png_base64(fm.feature_grid(maps, order, options.colormap)),
        channels=[ChannelStat.model_validate(stat) for stat in fm.channel_stats(maps, order)],
        raw_npy=npy_base64(raw) if options.raw == "npy" else None,
        raw=np.round(raw.astype(np.float64), 7).tolist() if options.raw == "json" else None,
    )


def filter_grid(model: RunningModel, layer: str | None, mode: filters.Mode) -> FilterGrid:
    """The answer of GET /models/{name}/filters."""
    node = filters.conv_node(model.graph, layer or _first_conv(model))
    weights = filters.conv_weights(model.graph, node)  # (out, in, k_h, k_w)
    chosen = filters.pick_mode(weights, node.input[0] == model.spec.name, mode)
    return FilterGrid(
        model=model.name,
        version=model.version,
        layer=node.output[0],
        node=node.name,
        shape=list(weights.shape),
        mode=chosen,
        grid_png=png_base64(filters.filter_grid(weights, chosen)),
    )


def _first_conv(model: RunningModel) -> str:
    node = next((n for n in model.graph.graph.node if n.op_type == "Conv"), None)
    if node is None:
        raise NoConvLayerError("This model has no convolution.")
    return node.output[0]


def resolve_objective(
    model: RunningModel, target: int | str | None, layer: str | None, channel: int | None
) -> tuple[dict[str, Any], am.GradientFn]:
    """(description, gradient function) of a class or channel objective."""
    model.engine.require()
    if target is not None:
        index = model.manifest.class_index(target)
        label = model.manifest.labels[index]
        fn = am.class_gradient(model.engine.run, model.manifest.classes, index, model.spec)
        return {"kind": "class", "class": index, "label": label}, fn
    layer = layer or default_layer(model)
    shape = model.layer_shape(layer)
    if channel is None or not 0 <= channel < shape[1]:
        raise InvalidParameterError(f"channel must be in [0, {shape[1]}) for layer '{layer}'.")
    run = partial(model.engine.run_objective, layer=layer)
    fn = am.channel_gradient(run, layer, shape, channel, model.spec)
    return {"kind": "channel", "layer": layer, "channel": channel}, fn


def ascent_result(
    model: RunningModel,
    fn: am.GradientFn,
    params: am.AscentParams,
    npy: bool,
    progress: JobProgress,
) -> dict[str, Any]:
    """Run the ascent, reporting each step to `progress`, and render its result."""
    spec, pre = model.spec, model.preprocessing
    shape = (spec.channels, spec.height, spec.width)
    image, value, logits = am.grow(fn, shape, pre, params, progress.report)
    predictions = model.manifest.ranked(model.manifest.probabilities(logits), 3)[0]
    result: dict[str, Any] = {
        "png": png_base64(_picture(model, image[0])),
        "objective": value,
        "predictions": [score.model_dump() for score in predictions],
    }
    if npy:
        result["npy"] = npy_base64(image[0])
    return result


def _picture(model: RunningModel, image: np.ndarray) -> Image.Image:
    """The image (C, H, W) in pixel space, enlarged for display."""
    spec = model.spec.model_copy(update={"layout": "NCHW"})
    picture = Image.fromarray(input_picture(image, spec, model.preprocessing))
    return picture.resize(display_size(spec.height, spec.width), Image.Resampling.NEAREST)
