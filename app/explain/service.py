"""Running an explanation for a request: the image, targets and layer, the method, the
faithfulness curves and the pictures, with the time each part took."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from app.errors import InvalidTargetError
from app.explain.base import Budget, ExplainInput, Method, MethodParams
from app.explain.faithfulness import faithfulness, faithfulness_passes
from app.explain.options import MAX_TARGETS, ExplainOptions
from app.explain.render import render_pictures
from app.explain.response import ExplainResponse, ExplainTiming
from app.imaging.decode import ImageLimits
from app.runtime.model import RunningModel


@dataclass(frozen=True)
class ImageUpload:
    """The encoded image to explain, and an optional baseline image (baseline=given)."""

    image: bytes
    baseline: bytes | None = None


@dataclass(frozen=True)
class RequestLimits:
    """What one request may cost: image size limits and forward passes."""

    images: ImageLimits
    forward_passes: int


def resolve_targets(
    requested: list[str], model: RunningModel, probabilities: np.ndarray
) -> list[int]:
    """Class indices from indices or labels; the top class when none is asked for."""
    if not requested:
        return [int(np.argmax(probabilities))]
    if len(requested) > MAX_TARGETS:
        raise InvalidTargetError(f"At most {MAX_TARGETS} targets per request.")
    return [model.manifest.class_index(item) for item in requested]


def explain_image(
    model: RunningModel,
    method: Method,
    params: MethodParams,
    options: ExplainOptions,
    upload: ImageUpload,
    limits: RequestLimits,
) -> ExplainResponse:
    """The answer of /explain/{method} for one image."""
    clock = [time.perf_counter()]
    given, probabilities = prepare_input(model, method, options, upload, limits)
    steps = options.faithfulness_steps
    curve_passes = faithfulness_passes(len(given.targets), steps) if options.faithfulness else 0
    given.budget.take(curve_passes, "The faithfulness curves", "Ask for fewer steps or targets.")
    method.require_budget(given, params)
    clock.append(time.perf_counter())
    explanation = method.explain(given, params)
    clock.append(time.perf_counter())
    curves = []
    if options.faithfulness:
        curves = faithfulness(given, explanation.heatmaps, steps, options.faithfulness_substrate)
    clock.append(time.perf_counter())
    pictures = render_pictures(given, explanation, probabilities, options)
    for entry, curve in zip(pictures.maps, curves, strict=False):  # none unless asked for
        entry.faithfulness = curve
    clock.append(time.perf_counter())
    return ExplainResponse(
        model=model.name,
        version=model.version,
        layer=given.layer,
        predictions=model.manifest.ranked(probabilities, 5)[0],
        input_png=pictures.input_png,
        maps=pictures.maps,
        extras=explanation.extras,
        class_map=pictures.class_map,
        raw_npy=pictures.raw_npy,
        parameters=params.model_dump(),
        timing=_timing(clock),
    )


def prepare_input(
    model: RunningModel,
    method: Method,
    options: ExplainOptions,
    upload: ImageUpload,
    limits: RequestLimits,
) -> tuple[ExplainInput, np.ndarray]:
    """The method's input for one uploaded image, and the model's probabilities (1, K)."""
    image = model.preprocess([upload.image], limits.images)  # (1, C, H, W)
    baseline = model.preprocess([upload.baseline], limits.images) if upload.baseline else None
    probabilities = model.probabilities(image)
    given = ExplainInput(
        model=model,
        image=image,
        targets=resolve_targets(options.target, model, probabilities[0]),
        budget=Budget(limits.forward_passes),
        layer=model.layers.cam(options.layer) if method.uses_layer else None,
        baseline=baseline,
    )
    return given, probabilities


def _timing(clock: list[float]) -> ExplainTiming:
    preprocess, explain, curves, render = (b - a for a, b in zip(clock, clock[1:], strict=False))
    return ExplainTiming(
        preprocess_ms=preprocess * 1000,
        explain_ms=explain * 1000,
        faithfulness_ms=curves * 1000,
        render_ms=render * 1000,
        total_ms=(clock[-1] - clock[0]) * 1000,
    )
