"""Untrusted bytes -> a safely decoded picture.

Formats are recognised by their content (magic bytes), never by name or declared type.
Size limits are checked on the header, before any pixel is decoded. What decoding will cost
is estimated from the header too: a JPEG is decoded at a reduced scale when the model needs
fewer pixels (libjpeg's DCT scaling), any picture is box-reduced band by band right after
decoding, and the decode waits at the decode gate until the memory it needs is free. Every
Pillow call on the untrusted picture runs inside `undecodable`, so a picture Pillow chokes on
is a 422, never a 500.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from app.errors import (
    AspectRatioError,
    EmptyImageError,
    ImageError,
    TooManyPixelsError,
    UndecodableImageError,
    UnsupportedImageError,
)
from app.imaging.decode_gate import DecodeGate
from app.imaging.reduce import BAND_BYTES, shrink

# EXIF turns that swap width and height
TURNS_A_QUARTER = frozenset(
    {
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
    }
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


# Errors Pillow raises on malformed data, from its decoders and its conversions alike.
PILLOW_ERRORS = (
    OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError,
    ZeroDivisionError,
)  # fmt: skip
# Bytes per pixel of Pillow's image memory (every other mode takes 4), and how many times a
# format's decoder needs its pixels' memory at its peak (libwebp keeps a canvas and a copy).
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_DECODER_COPIES = {"WEBP": 4}


@dataclass(frozen=True)
class ImageLimits:
    """The size limits, and the decode gate every decode waits at (none: no waiting)."""

    max_pixels: int = 40_000_000
    max_side: int = 12_000
    max_aspect_ratio: float = 20.0
    gate: DecodeGate | None = field(default=None, compare=False)

    def hold(self, cost: int) -> AbstractContextManager[None]:
        return self.gate.hold(cost) if self.gate is not None else nullcontext()


def sniff_format(data: bytes) -> str | None:
    """The image format named by the first bytes, or None when it is not an allowed one."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def stated_pixels(data: bytes) -> int | None:
    """Width * height as the image's header states them (no pixel decoded); None when the
    header cannot be read (decoding the image says why)."""
    declared = sniff_format(data)
    if declared is None:
        return None
    if declared == "PNG" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack_from(">II", data, 16)  # IHDR first, as Pillow reads it
        return int(width) * int(height)
    try:
        width, height = _open_header(data, declared).size
    except ImageError:
        return None
    return int(width) * int(height)


@contextmanager
def undecodable(what: str) -> Iterator[None]:
    """Pillow's errors on a malformed picture, as UndecodableImageError naming `what`."""
    try:
        yield
    except PILLOW_ERRORS as error:
        raise UndecodableImageError(f"The {what} image could not be decoded.") from error


def decode_image(data: bytes, limits: ImageLimits, longest: int | None = None) -> Image.Image:
    """Decode one image (the first frame of an animation) with EXIF orientation applied;
    with `longest`, a picture larger than twice that is reduced by a whole factor (JPEG while
    decoding, others band by band) to a longer side of at least `longest`."""
    return decode_upload(data, limits, longest)[0]


def decode_upload(
    data: bytes, limits: ImageLimits, longest: int | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """`decode_image`, and the size of the picture as given (upright, before any reduction)."""
    if not data:
        raise EmptyImageError("The image is empty (zero bytes).")
    declared = sniff_format(data)
    if declared is None:
        raise UnsupportedImageError("Not an allowed image: send PNG, JPEG, WebP, BMP or GIF.")
    image = _open_header(data, declared)
    _check_size(image.size, limits)
    given = image.size
    with undecodable(declared):
        if longest is not None and declared == "JPEG":
            draft(image, longest)
        cost = decode_cost(image, declared)
    _check_cost(cost, image.size, limits)
    with limits.hold(cost), undecodable(declared):
        image.seek(0)
        image.load()
        turn = upright_transposition(image)
        if longest is not None:
            image = shrink(image, longest)
        if turn in TURNS_A_QUARTER:
            given = (given[1], given[0])
        return (image.transpose(turn) if turn is not None else image), given


def draft(image: Image.Image, longest: int) -> None:
    """Ask libjpeg for the smallest scale (1/2, 1/4, 1/8) that keeps the longer side at
    least `longest`: a fraction of the memory and time of a full decode."""
    scale = longest / max(image.size)
    if scale <= 0.5:
        image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))


def decode_cost(image: Image.Image, declared: str) -> int:
    """The bytes decoding `image` takes at its peak, from its header: its pixels in Pillow's
    memory, times the decoder's own copies, and the bands that reducing it converts."""
    pixels = image.width * image.height * _PIXEL_BYTES.get(image.mode, 4)
    return pixels * _DECODER_COPIES.get(declared, 1) + 3 * BAND_BYTES


def _check_cost(cost: int, size: tuple[int, int], limits: ImageLimits) -> None:
    """An image that needs more than the whole decode gate could never be decoded."""
    if limits.gate is not None and cost > limits.gate.capacity:
        width, height = size
        raise TooManyPixelsError(
            f"Decoding this {width}x{height} image needs {cost // 2**20} MiB; the limit is "
            f"{limits.gate.capacity // 2**20} MiB (LANTERN_MAX_DECODE_BYTES)."
        )


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


def upright_transposition(image: Image.Image) -> Image.Transpose | None:
    """The transposition that turns the image as its EXIF orientation says (None: as it is);
    an unreadable EXIF block is ignored."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            orientation = image.getexif().get(0x0112)
    except Exception:  # corrupt EXIF data raises struct, type or value errors inside Pillow
        return None
    return _ORIENTATIONS.get(orientation) if isinstance(orientation, int) else None


def _open_header(data: bytes, declared: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # our own limits stand in for the bomb warning; Pillow's other warnings (odd EXIF
            # tags, say) tell a client nothing it can act on
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=[declared])
    except Image.DecompressionBombError as error:
        raise TooManyPixelsError("The image has too many pixels.") from error
    except (UnidentifiedImageError, *PILLOW_ERRORS) as error:
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
