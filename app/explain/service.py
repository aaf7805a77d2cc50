"""Running an explanation for a request: the image, targets and layer, the method, the
faithfulness curves and the pictures, with the time each part took."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from app.errors import InvalidTargetError
from app.explain.base import ExplainInput, Method, MethodParams
from app.explain.budget import DEFAULT_ELEMENTS, Budget
from app.explain.faithfulness import faithfulness, faithfulness_elements, faithfulness_passes
from app.explain.options import MAX_TARGETS, ExplainOptions
from app.explain.render import render_pictures
from app.explain.response import ExplainResponse, ExplainTiming
from app.imaging.decode import ImageLimits
from app.imaging.prepare import PreparedImage
from app.imaging.tensors import InputRegion
from app.runtime.model import RunningModel


@dataclass(frozen=True)
class ImageUpload:
    """The image to explain, encoded (bytes) or as the model's input tensor (1, C, H, W) (or
    NHWC) already preprocessed, and an optional encoded baseline image (baseline=given)."""

    image: bytes | np.ndarray
    baseline: bytes | None = None


@dataclass(frozen=True)
class RequestLimits:
    """What one request may cost: image size limits, forward passes, array elements."""

    images: ImageLimits
    forward_passes: int
    elements: int = DEFAULT_ELEMENTS


def resolve_targets(requested: list[str], model: RunningModel) -> list[int] | None:
    """Class indices from indices or labels; None (the top class) when none is asked for."""
    if not requested:
        return None
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
    given, prepared = prepare_input(model, method, options, upload, limits)
    steps, targets = options.faithfulness_steps, given.target_count
    if options.faithfulness:
        given.budget.take(
            faithfulness_passes(targets, steps),
            "The faithfulness curves",
            "Ask for fewer steps or targets.",
            faithfulness_elements(targets, steps, given),
        )
    method.require_budget(given, params)
    clock.append(time.perf_counter())
    explanation = method.explain(given, params)
    clock.append(time.perf_counter())
    curves = []
    if options.faithfulness:
        curves = faithfulness(given, explanation.heatmaps, steps, options.faithfulness_substrate)
    clock.append(time.perf_counter())
    probabilities = given.probabilities()  # from the explanation's own run where it made one
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
        input_region=prepared.region,
        hints=prepared.hints,
        parameters=params.model_dump(),
        timing=_timing(clock),
    )


def prepare_input(
    model: RunningModel,
    method: Method,
    options: ExplainOptions,
    upload: ImageUpload,
    limits: RequestLimits,
) -> tuple[ExplainInput, PreparedImage]:
    """The method's input for one uploaded image, and the prepared image (its region of the
    upload and its hints). No model run yet: the top class, when no target is asked for, is
    found by the explanation's first run (`ExplainInput.targets`)."""
    prepared = _prepared(model, upload, limits)
    image = prepared.array[None]  # (1, C, H, W)
    baseline = model.preprocess([upload.baseline], limits.images) if upload.baseline else None
    given = ExplainInput(
        model=model,
        image=image,
        requested=resolve_targets(options.target, model),
        budget=Budget(limits.forward_passes, limits.elements),
        layer=model.layers.cam(options.layer) if method.uses_layer else None,
        baseline=baseline,
    )
    return given, prepared


def _prepared(model: RunningModel, upload: ImageUpload, limits: RequestLimits) -> PreparedImage:
    """The upload decoded and preprocessed, or a tensor sent ready (1, C, H, W) taken as it is
    (its region is the whole input; no hints)."""
    if not isinstance(upload.image, np.ndarray):
        (prepared,) = model.prepare([upload.image], limits.images)
        return prepared
    height, width = model.spec.to_nchw(upload.image).shape[2:]
    region = InputRegion(width=width, height=height, box=(0.0, 0.0, float(width), float(height)))
    return PreparedImage(upload.image[0], region, [])


def _timing(clock: list[float]) -> ExplainTiming:
    preprocess, explain, curves, render = (b - a for a, b in zip(clock, clock[1:], strict=False))
    return ExplainTiming(
        preprocess_ms=preprocess * 1000,
        explain_ms=explain * 1000,
        faithfulness_ms=curves * 1000,
        render_ms=render * 1000,
        total_ms=(clock[-1] - clock[0]) * 1000,
    )
