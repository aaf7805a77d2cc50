"""Pixel modes: any decoded picture as 8 bits (16-bit scaled, float rescaled, 1-bit widened),
as RGB with transparency composited onto the model's background, and box-reduced copies."""

from __future__ import annotations

import numpy as np
from PIL import Image

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


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


def shrink(image: Image.Image, longest: int) -> Image.Image:
    """Box-reduce a large picture by a whole factor, keeping its longer side >= `longest`:
    full-size copies of a 40-megapixel upload would cost gigabytes and seconds."""
    factor = max(image.size) // longest
    if factor < 2:
        return image
    if image.mode in ("P", "1"):
        image = image.convert("RGBA" if image.mode == "P" else "L")
    return image.reduce(factor)
