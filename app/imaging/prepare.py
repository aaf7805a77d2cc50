"""Encoded images -> the model's input batch: each image decoded once, preprocessed, with the
region of the upload the input covers and the hints about how well it suits the model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import ImageError
from app.imaging.decode import ImageLimits, decode_image
from app.imaging.hints import Hint, input_hints
from app.imaging.tensors import InputRegion, to_model_input, working_copy
from app.store.manifest import Manifest


@dataclass(frozen=True)
class PreparedImage:
    """One decoded picture as the model takes it, the region of the picture that input
    covers, and the hints about how well the picture suits the model."""

    array: np.ndarray  # float32 (C, H, W), or (H, W, C) for NHWC models
    region: InputRegion
    hints: list[Hint]


def prepare_images(
    blobs: list[bytes], manifest: Manifest, limits: ImageLimits, hints: bool = True
) -> list[PreparedImage]:
    """Decode and preprocess every image (each decoded once); `hints=False` skips them. The
    message of an error in one image of several names its position."""
    spec, preprocess = manifest.input, manifest.preprocess
    prepared = []
    for position, blob in enumerate(blobs):
        try:
            image = decode_image(blob, limits)
        except ImageError as error:
            if len(blobs) == 1:
                raise
            raise type(error)(f"Image {position}: {error.message}") from error
        work = working_copy(image, spec, preprocess)  # reduced once
        array, region = to_model_input(work, spec, preprocess, image.size)
        found = input_hints(work, manifest) if hints else []
        prepared.append(PreparedImage(array, region, found))
    return prepared


def preprocess_batch(blobs: list[bytes], manifest: Manifest, limits: ImageLimits) -> np.ndarray:
    """Decode and preprocess every image: float32 (N, C, H, W), or NHWC as the model takes."""
    return np.stack([image.array for image in prepare_images(blobs, manifest, limits, False)])
