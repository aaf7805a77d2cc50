"""Tiles in a grid: the picture behind feature maps and filters."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

GAP = 2  # pixels between tiles
BACKGROUND = (48, 48, 48)


def columns_for(count: int) -> int:
    """Columns of a near-square grid of `count` tiles."""
    return max(1, math.ceil(math.sqrt(count)))


def magnification(height: int, width: int, minimum: int) -> int:
    """Integer factor that makes a tile's shorter side at least `minimum` pixels."""
    return max(1, math.ceil(minimum / max(1, min(height, width))))


def tile_grid(
    tiles: np.ndarray, columns: int, scale: int, labels: list[str] | None = None
) -> Image.Image:
    """RGB uint8 tiles (T, h, w, 3), each enlarged `scale` times (nearest), in rows of
    `columns`, optionally labelled in their top-left corner."""
    count, height, width = tiles.shape[:3]
    rows = math.ceil(count / columns)
    step_y, step_x = height * scale + GAP, width * scale + GAP
    canvas = Image.new("RGB", (columns * step_x + GAP, rows * step_y + GAP), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for index, tile in enumerate(tiles):
        left = GAP + (index % columns) * step_x
        top = GAP + (index // columns) * step_y
        picture = Image.fromarray(tile).resize(
            (width * scale, height * scale), Image.Resampling.NEAREST
        )
        canvas.paste(picture, (left, top))
        if labels:
            _label(draw, labels[index], left, top)
    return canvas


def _label(draw: ImageDraw.ImageDraw, text: str, left: int, top: int) -> None:
    box = draw.textbbox((left + 2, top + 1), text)
    draw.rectangle((box[0] - 2, box[1] - 1, box[2] + 1, box[3] + 1), fill=(0, 0, 0))
    draw.text((left + 2, top + 1), text, fill=(255, 255, 255))
