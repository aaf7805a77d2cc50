"""Encoded images -> the model's input batch: each image decoded once, preprocessed, with the
region of the upload the input covers and the hints about how well it suits the model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import ImageError
from app.imaging.decode import ImageLimits, decode_upload, sniff_format, undecodable
from app.imaging.hints import Hint, input_hints
from app.imaging.tensors import InputRegion, to_model_input, working_copy, working_side
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
    prepared = []
    for position, blob in enumerate(blobs):
        try:
            prepared.append(prepare_image(blob, manifest, limits, hints))
        except ImageError as error:
            if len(blobs) == 1:
                raise
            raise type(error)(f"Image {position}: {error.message}") from error
    return prepared


def prepare_image(
    blob: bytes, manifest: Manifest, limits: ImageLimits, hints: bool = True
) -> PreparedImage:
    """One encoded image, decoded once (reduced to what the model needs while decoding) and
    preprocessed; every conversion of the untrusted picture is inside the decode's error
    handling."""
    spec, preprocess = manifest.input, manifest.preprocess
    image, given = decode_upload(blob, limits, working_side(spec, preprocess))
    with undecodable(sniff_format(blob) or "uploaded"):
        work = working_copy(image, spec, preprocess)
        array, region = to_model_input(work, spec, preprocess, given)
        found = input_hints(work, manifest) if hints else []
    return PreparedImage(array, region, found)


def preprocess_batch(blobs: list[bytes], manifest: Manifest, limits: ImageLimits) -> np.ndarray:
    """Decode and preprocess every image: float32 (N, C, H, W), or NHWC as the model takes."""
    return np.stack([image.array for image in prepare_images(blobs, manifest, limits, False)])
