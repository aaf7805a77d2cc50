"""Colour: any 8-bit picture as RGB, with transparency composited onto the model's
background."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.imaging.reduce import to_eight_bit


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
