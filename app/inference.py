"""Shared steps of every route that classifies: encoded images -> batch -> ranked classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import APIError
from app.hints import Hint, input_hints
from app.imaging import ImageLimits, InputRegion, decode_image, to_model_input, working_copy
from app.store.loader import LoadedModel


@dataclass(frozen=True)
class PreparedImage:
    """One decoded picture as the model takes it, the region of the picture that input
    covers, and the hints about how well the picture suits the model."""

    array: np.ndarray  # float32 (C, H, W), or (H, W, C) for NHWC models
    region: InputRegion
    hints: list[Hint]


def prepare_images(
    model: LoadedModel, blobs: list[bytes], limits: ImageLimits, hints: bool = True
) -> list[PreparedImage]:
    """Decode and preprocess every image (each decoded once); `hints=False` skips them."""
    manifest = model.manifest
    prepared = []
    for position, blob in enumerate(blobs):
        try:
            image = decode_image(blob, limits)
        except APIError as error:
            if len(blobs) > 1:
                error.message = f"Image {position}: {error.message}"
            raise
        work = working_copy(image, manifest.input, manifest.preprocess)  # reduced once
        array, region = to_model_input(work, manifest.input, manifest.preprocess, image.size)
        prepared.append(PreparedImage(array, region, input_hints(work, manifest) if hints else []))
    return prepared


def preprocess_batch(model: LoadedModel, blobs: list[bytes], limits: ImageLimits) -> np.ndarray:
    """Decode and preprocess every image; float32 (N, C, H, W) (or NHWC, as the model takes)."""
    return np.stack([image.array for image in prepare_images(model, blobs, limits, hints=False)])


def top_k(probabilities: np.ndarray, labels: tuple[str, ...], k: int) -> list[list[dict]]:
    """Best-first [{index, label, probability}] for each row of (N, K) probabilities."""
    k = min(k, probabilities.shape[1])
    ranked = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]  # (N, k)
    return [
        [
            {"index": int(i), "label": _label(labels, int(i)), "probability": float(row[i])}
            for i in order
        ]
        for row, order in zip(probabilities, ranked, strict=True)
    ]


def _label(labels: tuple[str, ...], index: int) -> str:
    return labels[index] if index < len(labels) else str(index)
