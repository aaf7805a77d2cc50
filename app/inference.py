"""Shared steps of every route that classifies: encoded images -> batch -> ranked classes."""

from __future__ import annotations

import numpy as np

from app.errors import APIError
from app.imaging import ImageLimits, decode_image, to_input_array
from app.store.loader import LoadedModel


def preprocess_batch(model: LoadedModel, blobs: list[bytes], limits: ImageLimits) -> np.ndarray:
    """Decode and preprocess every image; float32 (N, C, H, W) (or NHWC, as the model takes)."""
    manifest = model.manifest
    arrays = []
    for position, blob in enumerate(blobs):
        try:
            image = decode_image(blob, limits)
        except APIError as error:
            if len(blobs) > 1:
                error.message = f"Image {position}: {error.message}"
            raise
        arrays.append(to_input_array(image, manifest.input, manifest.preprocess))
    return np.stack(arrays)


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
