"""Running an explanation for an API request: targets, layer, the method, the pictures."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from app.errors import APIError
from app.explain.base import DEFAULT_BUDGET, ExplainInput, Method, MethodParams
from app.explain.faithfulness import faithfulness, faithfulness_passes
from app.explain.layers import cam_refusal
from app.explain.render import render_explanation
from app.imaging import ImageLimits
from app.inference import preprocess_batch
from app.store.loader import LoadedModel

MAX_TARGETS = 16


def resolve_targets(
    requested: list[str], model: LoadedModel, probabilities: np.ndarray
) -> list[int]:
    """Class indices from indices or labels; the top class when none is asked for."""
    if not requested:
        return [int(np.argmax(probabilities))]
    if len(requested) > MAX_TARGETS:
        raise APIError(422, "invalid_target", f"At most {MAX_TARGETS} targets per request.")
    labels = model.manifest.labels
    return [_target_index(item, labels) for item in requested]


def _target_index(item: str, labels: tuple[str, ...]) -> int:
    if item in labels:
        return labels.index(item)
    if item.isascii() and item.isdecimal() and int(item) < len(labels):
        return int(item)
    raise APIError(
        422,
        "invalid_target",
        f"Target '{item}' is neither a label nor an index below {len(labels)}.",
    )


def resolve_layer(requested: str | None, model: LoadedModel, method: Method) -> str | None:
    if not method.uses_layer:
        return None
    layer = requested or model.cam_layer
    if layer is None:
        raise APIError(422, "no_conv_layer", cam_refusal(model.onnx_model))
    if layer != model.cam_layer and layer not in model.conv_layers:
        raise APIError(
            422, "unknown_layer", f"'{layer}' is not a conv layer; GET /models/{{name}} lists them."
        )
    return layer


def check_supported(method: Method, model: LoadedModel) -> None:
    if method.needs_gradients and not model.engine.available:
        raise APIError(422, model.engine.error_code, model.engine.error or "")


def explain_image(
    model: LoadedModel,
    method: Method,
    params: MethodParams,
    upload: tuple[bytes, bytes | None],
    options: dict[str, Any],
    limits: ImageLimits,
) -> dict[str, Any]:
    """The response body of /explain/{method} for one image."""
    clock = [time.perf_counter()]
    given, probabilities = prepare_input(model, method, upload, options, limits)
    curve_passes = _curve_passes(given, options)
    given.spend(curve_passes, "The faithfulness curves", "Ask for fewer steps or targets.")
    given.budget -= curve_passes
    clock.append(time.perf_counter())
    explanation = method.explain(given, params)
    clock.append(time.perf_counter())
    curves = _curves(given, explanation.heatmaps, options) if curve_passes else []
    clock.append(time.perf_counter())
    body = render_explanation(model, given, explanation, probabilities, options)
    for entry, curve in zip(body["maps"], curves, strict=False):  # none unless asked for
        entry["faithfulness"] = curve
    clock.append(time.perf_counter())
    body["parameters"] = params.model_dump()
    body["timing"] = _timing(clock)
    return body


def prepare_input(
    model: LoadedModel,
    method: Method,
    upload: tuple[bytes, bytes | None],
    options: dict[str, Any],
    limits: ImageLimits,
) -> tuple[ExplainInput, np.ndarray]:
    """The method's input for one uploaded image, and the model's probabilities (1, K)."""
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
    return given, probabilities


def _timing(clock: list[float]) -> dict[str, float]:
    names = ("preprocess_ms", "explain_ms", "faithfulness_ms", "render_ms")
    timing = {
        name: (end - start) * 1000
        for name, start, end in zip(names, clock, clock[1:], strict=False)
    }
    return {**timing, "total_ms": (clock[-1] - clock[0]) * 1000}


def _curve_passes(given: ExplainInput, options: dict[str, Any]) -> int:
    """Forward passes the requested faithfulness curves take (0 when none are asked for)."""
    if not options.get("faithfulness"):
        return 0
    return faithfulness_passes(len(given.targets), options["faithfulness_steps"])


def _curves(given: ExplainInput, heatmaps: np.ndarray, options: dict[str, Any]) -> list[dict]:
    steps, substrate = options["faithfulness_steps"], options["faithfulness_substrate"]
    return faithfulness(given, heatmaps, steps, substrate)
