"""Image intake: untrusted bytes -> safely decoded picture -> the model's input tensor.

Formats are recognised by their content (magic bytes), never by name or declared type.
Size limits are checked on the header, before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError
from app.store.manifest import DigitNormalisation, InputSpec, Preprocess

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
        raise ApiError(422, "empty_image", "The image is empty (zero bytes).")
    declared = sniff_format(data)
    if declared is None:
        raise ApiError(
            415, "unsupported_media_type", "Not an allowed image: send PNG, JPEG, WebP, BMP or GIF."
        )
    image = _open_header(data, declared)
    _check_size(image.size, limits)
    try:
        image.seek(0)
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ApiError(
            422, "undecodable_image", f"The {declared} image could not be decoded."
        ) from error
    return ImageOps.exif_transpose(image)


def _open_header(data: bytes, declared: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[declared])
    except Image.DecompressionBombError as error:
        raise ApiError(422, "too_many_pixels", "The image has too many pixels.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ApiError(
            422, "undecodable_image", f"The {declared} image could not be read."
        ) from error
    return image


def _check_size(size: tuple[int, int], limits: ImageLimits) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ApiError(422, "undecodable_image", "The image has no pixels.")
    if max(width, height) / min(width, height) > limits.max_aspect_ratio:
        raise ApiError(
            422,
            "extreme_aspect_ratio",
            f"The image is {width}x{height}; "
            f"the aspect ratio limit is {limits.max_aspect_ratio:g}.",
        )
    if width * height > limits.max_pixels or max(width, height) > limits.max_side:
        raise ApiError(
            422,
            "too_many_pixels",
            f"The image is {width}x{height}; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} per side.",
        )


def to_rgb(image: Image.Image, background: str) -> Image.Image:
    """An 8-bit RGB picture: 16-bit scaled, CMYK converted, alpha composited on `background`."""
    image = _to_eight_bit(image)
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


def _to_eight_bit(image: Image.Image) -> Image.Image:
    if image.mode in _SIXTEEN_BIT_MODES:
        pixels = np.asarray(image, dtype=np.float64)  # (H, W)
        top = 65535.0 if image.mode != "I" or pixels.max() > 255 else 255.0
        return Image.fromarray(np.round(pixels / top * 255.0).clip(0, 255).astype(np.uint8))
    if image.mode == "F":
        pixels = np.asarray(image, dtype=np.float64)
        top = 1.0 if pixels.max() <= 1.0 else 255.0
        return Image.fromarray(np.round(pixels / top * 255.0).clip(0, 255).astype(np.uint8))
    if image.mode == "1":
        return image.convert("L")
    return image


def to_input_array(image: Image.Image, spec: InputSpec, preprocess: Preprocess) -> np.ndarray:
    """The model's input for one picture: float32 (C, H, W), or (H, W, C) for NHWC models."""
    rgb = to_rgb(image, preprocess.background)
    if preprocess.digit is not None:
        pixels = normalise_digit(np.asarray(rgb.convert("L")), preprocess.digit)  # (28, 28)
        pixels = _fit_canvas(pixels, spec.height, spec.width)[None]  # (1, H, W)
    else:
        resized = _resize(rgb, spec, preprocess)
        if spec.channels == 1:
            resized = resized.convert("L")
        pixels = np.asarray(resized, dtype=np.float32).reshape(spec.height, spec.width, -1)
        pixels = pixels.transpose(2, 0, 1) / 255.0  # (C, H, W)
    mean = np.asarray(preprocess.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(preprocess.std, dtype=np.float32)[:, None, None]
    tensor = ((pixels - mean) / std).astype(np.float32)
    return tensor.transpose(1, 2, 0) if spec.layout == "NHWC" else tensor


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


def normalise_digit(grey: np.ndarray, digit: DigitNormalisation) -> np.ndarray:
    """MNIST-style digit: float32 (canvas, canvas) in [0, 1], a light digit on black.

    A light background is inverted and subtracted, the digit is cropped to its bounding box,
    scaled so its longer side is `box` (keeping the aspect ratio) and placed so that its
    centre of mass is the centre of the canvas, as LeCun et al. built MNIST.
    """
    ink = _ink(grey.astype(np.float32) / 255.0)  # (H, W), 0 = background
    rows, cols = np.nonzero(ink > 0.05)
    canvas = np.zeros((digit.canvas, digit.canvas), dtype=np.float32)
    if rows.size == 0:
        return canvas
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    patch = _fit_box(crop, digit.box)
    mass_row, mass_col = _centre_of_mass(patch)
    top = int(np.clip(round(digit.canvas / 2 - mass_row), 0, digit.canvas - patch.shape[0]))
    left = int(np.clip(round(digit.canvas / 2 - mass_col), 0, digit.canvas - patch.shape[1]))
    canvas[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return canvas


def _ink(grey: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds, 0 on the background and 1 at the strongest stroke."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:
        grey = 1.0 - grey
        border = 1.0 - border
    background = float(np.median(border))
    ink = np.clip(grey - background, 0.0, None)
    peak = float(ink.max())
    return ink / peak if peak > 0 else ink


def _fit_box(crop: np.ndarray, box: int) -> np.ndarray:
    height, width = crop.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return crop
    resized = Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _centre_of_mass(patch: np.ndarray) -> tuple[float, float]:
    total = float(patch.sum())
    rows, cols = np.indices(patch.shape)
    return float((rows * patch).sum() / total), float((cols * patch).sum() / total)


def _fit_canvas(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad (centred) or resize a digit canvas to the model's input size."""
    if pixels.shape == (height, width):
        return pixels
    if pixels.shape[0] <= height and pixels.shape[1] <= width:
        top, left = (height - pixels.shape[0]) // 2, (width - pixels.shape[1]) // 2
        out = np.zeros((height, width), dtype=np.float32)
        out[top : top + pixels.shape[0], left : left + pixels.shape[1]] = pixels
        return out
    resized = Image.fromarray(pixels.astype(np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.asarray(resized, dtype=np.float32)


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
