"""Untrusted bytes -> a safely decoded picture.

Formats are recognised by their content (magic bytes), never by name or declared type.
Size limits are checked on the header, before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from app.errors import (
    AspectRatioError,
    EmptyImageError,
    TooManyPixelsError,
    UndecodableImageError,
    UnsupportedImageError,
)

# magic-byte prefix -> Pillow format name
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP", "GIF"})


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
        raise EmptyImageError("The image is empty (zero bytes).")
    declared = sniff_format(data)
    if declared is None:
        raise UnsupportedImageError("Not an allowed image: send PNG, JPEG, WebP, BMP or GIF.")
    image = _open_header(data, declared)
    _check_size(image.size, limits)
    try:
        image.seek(0)
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise UndecodableImageError(f"The {declared} image could not be decoded.") from error
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
        raise TooManyPixelsError("The image has too many pixels.") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UndecodableImageError(f"The {declared} image could not be read.") from error
    return image


def _check_size(size: tuple[int, int], limits: ImageLimits) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise UndecodableImageError("The image has no pixels.")
    if max(width, height) / min(width, height) > limits.max_aspect_ratio:
        raise AspectRatioError(
            f"The image is {width}x{height}; "
            f"the aspect ratio limit is {limits.max_aspect_ratio:g}.",
        )
    if width * height > limits.max_pixels or max(width, height) > limits.max_side:
        raise TooManyPixelsError(
            f"The image is {width}x{height}; the limit is {limits.max_pixels} pixels "
            f"and {limits.max_side} per side.",
        )
