"""A decoded picture <-> the model's input tensor: colour handling, resizing, cropping and
normalisation as the manifest's `Preprocess` says, and the picture back from a tensor."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.errors import ImageError
from app.imaging.decode import ImageLimits, decode_image, sniff_format, undecodable
from app.imaging.digits import fit_canvas, normalise_digit
from app.imaging.reduce import shrink, to_eight_bit
from app.store.manifest import InputSpec, Preprocess


def preprocess_batch(
    blobs: list[bytes], spec: InputSpec, preprocess: Preprocess, limits: ImageLimits
) -> np.ndarray:
    """Decode and preprocess every image: float32 (N, C, H, W), or NHWC as the model takes.
    The message of an error in one image of several names its position."""
    arrays = []
    for position, blob in enumerate(blobs):
        try:
            arrays.append(image_array(blob, spec, preprocess, limits))
        except ImageError as error:
            if len(blobs) == 1:
                raise
            raise type(error)(f"Image {position}: {error.message}") from error
    return np.stack(arrays)


def image_array(
    blob: bytes, spec: InputSpec, preprocess: Preprocess, limits: ImageLimits
) -> np.ndarray:
    """One encoded image -> the model's input for it; every conversion of the untrusted
    picture is inside the decode's error handling."""
    image = decode_image(blob, limits, _working_side(spec, preprocess))
    with undecodable(sniff_format(blob) or "uploaded"):
        return to_input_array(image, spec, preprocess)


def to_rgb(image: Image.Image, background: str) -> Image.Image:
    """An 8-bit RGB picture: 16-bit scaled, CMYK converted, alpha composited on `background`."""
    image = to_eight_bit(image)
    if image.mode == "CMYK":
        image = image.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        level = _background_level(np.asarray(rgba), background)
        canvas = Image.new("RGBA", rgba.size, (level, level, level, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def _background_level(rgba: np.ndarray, background: str) -> int:
    """Grey level for transparent pixels; `contrast` opposes the visible pixels' brightness."""
    if background != "contrast":
        return 0 if background == "black" else 255
    alpha = rgba[..., 3].astype(np.float64) / 255.0  # (H, W)
    if alpha.sum() == 0:
        return 0
    brightness = (rgba[..., :3].mean(axis=2) * alpha).sum() / alpha.sum()
    return 255 if brightness < 128 else 0


def to_input_array(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> np.ndarray:
    """The model's input for one picture: float32 (C, H, W), or (H, W, C) for NHWC models."""
    image = to_eight_bit(shrink(image, _working_side(spec, preprocess)))
    rgb = to_rgb(image, preprocess.background)
    if preprocess.digit is not None:
        pixels = normalise_digit(np.asarray(rgb.convert("L")), preprocess.digit)  # (28, 28)
        pixels = fit_canvas(pixels, spec.height, spec.width)[None]  # (1, H, W)
    else:
        resized = _resize(rgb, spec, preprocess)
        if spec.channels == 1:
            resized = resized.convert("L")
        pixels = np.asarray(resized, dtype=np.float32).reshape(spec.height, spec.width, -1)
        pixels = pixels.transpose(2, 0, 1) / 255.0  # (C, H, W)
    tensor = preprocess.normalise(pixels)  # (C, H, W)
    return tensor.transpose(1, 2, 0) if spec.channels_last else tensor


def _working_side(spec: InputSpec, preprocess: Preprocess) -> int:
    """The longer side a picture needs for this model: twice what its resizing keeps, and for
    digits enough to find a small digit in a large photograph."""
    if preprocess.digit is not None:
        return 1024
    needed = max(spec.height, spec.width, preprocess.resize_shorter_to or 0)
    return 2 * needed


def _resize(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> Image.Image:
    size = (spec.width, spec.height)
    if preprocess.resize == "stretch":
        return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=None)
    shorter = preprocess.resize_shorter_to or min(spec.height, spec.width)
    scale = shorter / min(image.size)
    scaled = (max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale)))
    image = image.resize(scaled, Image.Resampling.BILINEAR)
    left, top = (scaled[0] - size[0]) // 2, (scaled[1] - size[1]) // 2
    return image.crop((left, top, left + size[0], top + size[1]))


def input_picture(tensor: np.ndarray, spec: InputSpec, preprocess: Preprocess) -> np.ndarray:
    """The picture the model sees, back from its input tensor: RGB uint8 (H, W, 3)."""
    chw = spec.to_nchw(tensor[None])[0]  # (C, H, W)
    pixels = np.round(preprocess.pixels(chw) * 255).astype(np.uint8)
    return (
        np.repeat(pixels, 3, axis=0).transpose(1, 2, 0)
        if len(pixels) == 1
        else pixels.transpose(1, 2, 0)
    )
