"""Large pictures made small without a second full-size copy: 8-bit conversion of wide modes
and box reduction by a whole factor, one horizontal band at a time."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
BAND_BYTES = 8 * 1024 * 1024  # a band converted and reduced at once, at 4 bytes per pixel


def to_eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey scaled to 8 bits (not clipped), float grey from [0, 1] or
    [0, 255], bilevel as grey; other modes as they are."""
    return _eight_bit_converter(image)(image)


def _eight_bit_converter(image: Image.Image):
    """The conversion `to_eight_bit` makes, decided once on the whole image, for its bands."""
    if image.mode in SIXTEEN_BIT_MODES:
        peak = 65535 if image.mode != "I" or image.getextrema()[1] > 255 else 255  # type: ignore[operator]
        return lambda part: _scaled(part.convert("I"), 255 / peak)
    if image.mode == "F":
        top = 1.0 if image.getextrema()[1] <= 1.0 else 255.0  # type: ignore[operator]
        return lambda part: _scaled_float(part, 255.0 / top)
    if image.mode == "1":
        return lambda part: part.convert("L")
    return lambda part: part


def _scaled(wide: Image.Image, scale: float) -> Image.Image:
    return wide.point(lambda value: value * scale + 0.5).convert("L")


def _scaled_float(image: Image.Image, scale: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.round(pixels * scale).clip(0, 255).astype(np.uint8))


def shrink(image: Image.Image, longest: int) -> Image.Image:
    """Box-reduce a large picture by a whole factor, keeping its longer side >= `longest`,
    band by band: each band is converted to 8 bits (palette pictures to RGBA, so that their
    transparency survives) and reduced, so the full-size picture is never copied. A picture
    too small to reduce comes back as it is."""
    factor = max(image.size) // longest
    if factor < 2:
        return image
    convert = _band_converter(image)
    width, height = image.size
    rows = factor * max(1, BAND_BYTES // (4 * width * factor))
    reduced: Image.Image | None = None
    for top in range(0, height, rows):
        band = convert(image.crop((0, top, width, min(top + rows, height)))).reduce(factor)
        if reduced is None:
            reduced = Image.new(band.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        reduced.paste(band, (0, top // factor))
    assert reduced is not None
    return reduced


def _band_converter(image: Image.Image):
    if image.mode == "P":
        return lambda part: part.convert("RGBA")
    return _eight_bit_converter(image)
