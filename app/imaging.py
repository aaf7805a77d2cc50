"""Image intake: untrusted bytes -> safely decoded picture -> the model's input tensor.

Formats are recognised by their content (magic bytes), never by name or declared type.
Size limits are checked on the header, before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from app.digits import fit_canvas, normalise_digit
from app.errors import APIError
from app.store.manifest import InputSpec, Preprocess

# magic-byte prefix -> Pillow format name
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP", "GIF"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int = 40_000_000
    max_side: int = 12_000
    max_aspect_ratio: float = 20.0


def sniff_format(data: bytes) -> str | None:
    """The image format named by the first bytes, or None when it is not an allowed one."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def decode_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Decode one image (the first frame of an animation) with EXIF orientation applied."""
    if not data:
        raise APIError(422, "empty_image", "The image is empty (zero bytes).")
    declared = sniff_format(data)
    if declared is None:
        raise APIError(
            415, "unsupported_media_type", "Not an allowed image: send PNG, JPEG, WebP, BMP or GIF."
        )
    image = _open_header(data, declared)
    _check_size(image.size, limits)
    try:
        image.seek(0)
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise APIError(
            422, "undecodable_image", f"The {declared} image could not be decoded."
        ) from error
    return upright(image)


# EXIF orientation -> the transposition that shows the picture upright
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; an unreadable EXIF block is ignored."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            orientation = image.getexif().get(0x0112)
    except Exception:  # corrupt EXIF data raises struct, type or value errors inside Pillow
        return image
    transpose = _ORIENTATIONS.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(transpose) if transpose is not None else image


def _open_header(data: bytes, declared: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # our own limits stand in for the bomb warning; Pillow's other warnings (odd EXIF
            # tags, say) tell a client nothing it can act on
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=[declared])
    except Image.DecompressionBombError as error:
        raise APIError(422, "too_many_pixels", "The image has too many pixels.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise APIError(
            422, "undecodable_image", f"The {declared} image could not be read."
        ) from error
    return image


def _check_size(size: tuple[int, int], limits: ImageLimits) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise APIError(422, "undecodable_image", "The image has no pixels.")
    if max(width, height) / min(width, height) > limits.max_aspect_ratio:
        raise APIError(
            422,
            "extreme_aspect_ratio",
            f"The image is {width}x{height}; "
            f"the aspect ratio limit is {limits.max_aspect_ratio:g}.",
        )
    if width * height > limits.max_pixels or max(width, height) > limits.max_side:
        raise APIError(
            422,
            "too_many_pixels",
            f"The image is {width}x{height}; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} per side.",
        )


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


def to_eight_bit(image: Image.Image) -> Image.Image:
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = image.convert("I")  # 32-bit integers, same values
        peak = 65535 if image.mode != "I" or wide.getextrema()[1] > 255 else 255  # type: ignore[operator]
        return wide.point(lambda value: value * (255 / peak) + 0.5).convert("L")
    if image.mode == "F":
        pixels = np.asarray(image, dtype=np.float64)
        top = 1.0 if pixels.max() <= 1.0 else 255.0
        return Image.fromarray(np.round(pixels / top * 255.0).clip(0, 255).astype(np.uint8))
    if image.mode == "1":
        return image.convert("L")
    return image


@dataclass(frozen=True)
class InputRegion:
    """The picture as given (after EXIF orientation), `width` x `height` pixels, and the
    rectangle of it that the model's input covers, in its pixels: (left, top, right, bottom).
    The whole picture for `stretch` and digit normalisation; the central crop otherwise."""

    width: int
    height: int
    box: tuple[float, float, float, float]


def to_input_array(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> np.ndarray:
    """The model's input for one picture: float32 (C, H, W), or (H, W, C) for NHWC models."""
    return to_model_input(image, spec, preprocess)[0]


def working_copy(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> Image.Image:
    """The picture in 8 bits, box-reduced to what the model needs (see `shrink`)."""
    return shrink(to_eight_bit(image), _working_side(spec, preprocess))


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
    box = (0.0, 0.0, float(rgb.width), float(rgb.height))
    if preprocess.digit is not None:
        pixels = normalise_digit(np.asarray(rgb.convert("L")), preprocess.digit)  # (28, 28)
        pixels = fit_canvas(pixels, spec.height, spec.width)[None]  # (1, H, W)
    else:
        resized, box = _resize(rgb, spec, preprocess)
        if spec.channels == 1:
            resized = resized.convert("L")
        pixels = np.asarray(resized, dtype=np.float32).reshape(spec.height, spec.width, -1)
        pixels = pixels.transpose(2, 0, 1) / 255.0  # (C, H, W)
    mean = np.asarray(preprocess.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(preprocess.std, dtype=np.float32)[:, None, None]
    tensor = ((pixels - mean) / std).astype(np.float32)
    tensor = tensor.transpose(1, 2, 0) if spec.layout == "NHWC" else tensor
    return tensor, _region(given, rgb.size, box)


def _region(
    given: tuple[int, int], worked: tuple[int, int], box: tuple[float, float, float, float]
) -> InputRegion:
    """`box` on the (possibly shrunk) working copy, in the given picture's pixels."""
    x_scale, y_scale = given[0] / worked[0], given[1] / worked[1]
    left, top, right, bottom = box
    return InputRegion(
        given[0],
        given[1],
        (round(left * x_scale, 2), round(top * y_scale, 2),
         round(right * x_scale, 2), round(bottom * y_scale, 2)),
    )  # fmt: skip


def _working_side(spec: InputSpec, preprocess: Preprocess) -> int:
    """The longer side a picture needs for this model: twice what its resizing keeps, and for
    digits enough to find a small digit in a large photograph."""
    if preprocess.digit is not None:
        return 1024
    needed = max(spec.height, spec.width, preprocess.resize_shorter_to or 0)
    return 2 * needed


def shrink(image: Image.Image, longest: int) -> Image.Image:
    """Box-reduce a large picture by a whole factor, keeping its longer side >= `longest`:
    full-size copies of a 40-megapixel upload would cost gigabytes and seconds."""
    factor = max(image.size) // longest
    if factor < 2:
        return image
    if image.mode in ("P", "1"):
        image = image.convert("RGBA" if image.mode == "P" else "L")
    return image.reduce(factor)


def _resize(
    image: Image.Image, spec: InputSpec, preprocess: Preprocess
) -> tuple[Image.Image, tuple[float, float, float, float]]:
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
    chw = tensor.transpose(2, 0, 1) if spec.layout == "NHWC" else tensor  # (C, H, W)
    mean = np.asarray(preprocess.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(preprocess.std, dtype=np.float32)[:, None, None]
    pixels = np.round((chw * std + mean).clip(0, 1) * 255).astype(np.uint8)
    return (
        np.repeat(pixels, 3, axis=0).transpose(1, 2, 0)
        if len(pixels) == 1
        else pixels.transpose(1, 2, 0)
    )
