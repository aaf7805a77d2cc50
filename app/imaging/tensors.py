"""A decoded picture <-> the model's input tensor: resizing, cropping and normalisation as the
manifest's `Preprocess` says, where on the picture the input lies, and the picture back from a
tensor."""

from __future__ import annotations

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from app.imaging.digits import fit_canvas, normalise_digit
from app.imaging.pixels import to_rgb
from app.imaging.reduce import shrink, to_eight_bit
from app.store.manifest import InputSpec, Preprocess

Box = tuple[float, float, float, float]  # left, top, right, bottom


class InputRegion(BaseModel):
    """Where the model's input lies on the picture as uploaded (after EXIF orientation)."""

    width: int = Field(description="the uploaded picture's width in pixels")
    height: int = Field(description="and height")
    box: Box = Field(
        description="[left, top, right, bottom] of the part the model sees, in those pixels: "
        "the central crop, or the whole picture (stretch, digit normalisation)"
    )


def to_input_array(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> np.ndarray:
    """The model's input for one picture: float32 (C, H, W), or (H, W, C) for NHWC models."""
    return to_model_input(image, spec, preprocess)[0]


def working_copy(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> Image.Image:
    """The picture box-reduced to what the model needs (see `shrink`), in 8 bits."""
    return to_eight_bit(shrink(image, working_side(spec, preprocess)))


def to_model_input(
    image: Image.Image,
    spec: InputSpec,
    preprocess: Preprocess,
    given: tuple[int, int] | None = None,
) -> tuple[np.ndarray, InputRegion]:
    """The model's input for one picture, and the region of the picture it covers; `given`
    is the size of the picture as uploaded when `image` is already its working copy."""
    given = given or image.size
    rgb = to_rgb(working_copy(image, spec, preprocess), preprocess.background)
    box: Box = (0.0, 0.0, float(rgb.width), float(rgb.height))
    if preprocess.digit is not None:
        pixels = normalise_digit(np.asarray(rgb.convert("L")), preprocess.digit)  # (28, 28)
        pixels = fit_canvas(pixels, spec.height, spec.width)[None]  # (1, H, W)
    else:
        resized, box = _resize(rgb, spec, preprocess)
        if spec.channels == 1:
            resized = resized.convert("L")
        pixels = np.asarray(resized, dtype=np.float32).reshape(spec.height, spec.width, -1)
        pixels = pixels.transpose(2, 0, 1) / 255.0  # (C, H, W)
    tensor = preprocess.normalise(pixels)  # (C, H, W)
    tensor = tensor.transpose(1, 2, 0) if spec.channels_last else tensor
    return tensor, _region(given, rgb.size, box)


def _region(given: tuple[int, int], worked: tuple[int, int], box: Box) -> InputRegion:
    """`box` on the (possibly shrunk) working copy, in the given picture's pixels."""
    x_scale, y_scale = given[0] / worked[0], given[1] / worked[1]
    left, top, right, bottom = box
    scaled = (left * x_scale, top * y_scale, right * x_scale, bottom * y_scale)
    return InputRegion(
        width=given[0],
        height=given[1],
        box=tuple(round(v, 2) for v in scaled),  # type: ignore[arg-type]
    )


def working_side(spec: InputSpec, preprocess: Preprocess) -> int:
    """The longer side a picture needs for this model: twice what its resizing keeps, and for
    digits enough to find a small digit in a large photograph."""
    if preprocess.digit is not None:
        return 1024
    needed = max(spec.height, spec.width, preprocess.resize_shorter_to or 0)
    return 2 * needed


def _resize(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> tuple[Image.Image, Box]:
    """The picture at the model's input size, and the box of `image` that it shows."""
    size = (spec.width, spec.height)
    whole = (0.0, 0.0, float(image.width), float(image.height))
    if preprocess.resize == "stretch":
        return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=None), whole
    shorter = preprocess.resize_shorter_to or min(spec.height, spec.width)
    scale = shorter / min(image.size)
    scaled = (max(size[0], round(image.width * scale)), max(size[1], round(image.height * scale)))
    image = image.resize(scaled, Image.Resampling.BILINEAR)
    left, top = (scaled[0] - size[0]) // 2, (scaled[1] - size[1]) // 2
    x_back, y_back = whole[2] / scaled[0], whole[3] / scaled[1]  # scaled pixels -> given
    box = (left * x_back, top * y_back, (left + size[0]) * x_back, (top + size[1]) * y_back)
    return image.crop((left, top, left + size[0], top + size[1])), box


def input_picture(tensor: np.ndarray, spec: InputSpec, preprocess: Preprocess) -> np.ndarray:
    """The picture the model sees, back from its input tensor: RGB uint8 (H, W, 3)."""
    chw = spec.to_nchw(tensor[None])[0]  # (C, H, W)
    pixels = np.round(preprocess.pixels(chw) * 255).astype(np.uint8)
    return (
        np.repeat(pixels, 3, axis=0).transpose(1, 2, 0)
        if len(pixels) == 1
        else pixels.transpose(1, 2, 0)
    )
