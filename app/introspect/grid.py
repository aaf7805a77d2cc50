"""Tiles in a grid: the picture behind feature maps and filters."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

GAP = 2  # pixels between tiles
GROUP_GAP = 6  # extra pixels between groups of columns (a filter's tiles stay together)
BACKGROUND = (48, 48, 48)


def columns_for(count: int) -> int:
    """Columns of a near-square grid of `count` tiles."""
    return max(1, math.ceil(math.sqrt(count)))


def groups_per_row(groups: int, size: int, tile_aspect: float = 1.0) -> int:
    """How many groups of `size` tiles (kept whole, side by side) make each row of the grid
    closest to square; `tile_aspect` is a tile's width / height. A tie goes to the wider grid
    (screens are wider than tall)."""

    def squareness(per_row: int) -> tuple[float, int]:
        rows = math.ceil(groups / per_row)
        return round(abs(math.log(per_row * size * tile_aspect / rows)), 9), -per_row

    return min(range(1, max(1, groups) + 1), key=squareness)


def magnification(height: int, width: int, minimum: int) -> int:
    """Integer factor that makes a tile's shorter side at least `minimum` pixels."""
    return max(1, math.ceil(minimum / max(1, min(height, width))))


def tile_grid(
    tiles: np.ndarray,
    columns: int,
    scale: int,
    labels: list[str] | None = None,
    group: int | None = None,
) -> Image.Image:
    """RGB uint8 tiles (T, h, w, 3), each enlarged `scale` times (nearest), in rows of
    `columns`, optionally labelled in their top-left corner; with `group`, every `group`
    columns are set apart by GROUP_GAP more pixels."""
    count, height, width = tiles.shape[:3]
    rows = math.ceil(count / columns)
    step_y, step_x = height * scale + GAP, width * scale + GAP
    extra = GROUP_GAP if group and group < columns else 0
    groups = math.ceil(columns / group) if extra and group else 1
    size = (columns * step_x + GAP + (groups - 1) * extra, rows * step_y + GAP)
    canvas = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for index, tile in enumerate(tiles):
        column = index % columns
        left = GAP + column * step_x + (column // group * extra if extra and group else 0)
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
