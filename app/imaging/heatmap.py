"""Heatmaps as pictures: colour maps, overlays on the input, PNG bytes; pictures and arrays
as the base64 text of the JSON responses."""

from __future__ import annotations

import base64
import io
from typing import Literal

import numpy as np
from PIL import Image

from app.imaging.png import png_bytes

Colormap = Literal["viridis", "inferno", "jet", "gray", "bwr"]

# Anchor colours (hex RGB), spread evenly over [0, 1] and interpolated linearly to 256 entries.
_ANCHORS: dict[str, str] = {
    "viridis": "440154 482878 3e4989 31688e 26828e 1f9e89 35b779 6ece58 b5de2b fde725",
    "inferno": "000004 1b0c41 4a0c6b 781c6d a52c60 cf4446 ed6925 fb9b06 f7d13d fcffa4",
    "jet": "00007f 0000ff 007fff 00ffff 7fff7f ffff00 ff7f00 ff0000 7f0000",
    "gray": "000000 ffffff",
    "bwr": "0000ff ffffff ff0000",
}
SIGNED_COLORMAPS = frozenset({"bwr"})
DISPLAY_SIZE = 224  # shortest side of the pictures sent back, in pixels


def lookup_table(name: str) -> np.ndarray:
    """(256, 3) uint8 colours of a colour map (read-only: built once, shared by every call)."""
    return _TABLES[name]


def _built_table(name: str) -> np.ndarray:
    colours = _ANCHORS[name].split()
    anchors = np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in colours], float)
    positions = np.linspace(0, 1, len(anchors))
    grid = np.linspace(0, 1, 256)
    table = [np.interp(grid, positions, anchors[:, channel]) for channel in range(3)]
    entries = np.round(np.stack(table, axis=1)).astype(np.uint8)
    entries.setflags(write=False)
    return entries


_TABLES = {name: _built_table(name) for name in _ANCHORS}


def scale_unit(heatmap: np.ndarray, signed: bool = False) -> np.ndarray:
    """Heatmap (H, W) -> [0, 1]: min-max, or for signed maps symmetric about 0 -> 0.5."""
    heatmap = np.nan_to_num(heatmap.astype(np.float64))
    if signed:
        peak = float(np.abs(heatmap).max())
        return 0.5 + 0.5 * heatmap / peak if peak > 0 else np.full(heatmap.shape, 0.5)
    low, high = float(heatmap.min()), float(heatmap.max())
    return (heatmap - low) / (high - low) if high > low else np.zeros(heatmap.shape)


def colour_indices(heatmap: np.ndarray, colormap: str) -> np.ndarray:
    """Heatmap (H, W) -> the colour map's entry of each pixel, uint8 (H, W)."""
    unit = scale_unit(heatmap, signed=colormap in SIGNED_COLORMAPS)
    return np.round(unit * 255).astype(np.uint8)


def colourise(heatmap: np.ndarray, colormap: str) -> np.ndarray:
    """Heatmap (H, W) -> RGB uint8 (H, W, 3)."""
    return np.asarray(palette_picture(heatmap, colormap).convert("RGB"))


def palette_picture(heatmap: np.ndarray, colormap: str) -> Image.Image:
    """Heatmap (H, W) as a palette picture: each pixel's entry of the colour map (one byte a
    pixel), the colour map as the palette."""
    picture = Image.fromarray(colour_indices(heatmap, colormap), mode="P")
    picture.putpalette(lookup_table(colormap).tobytes())
    return picture


def display_size(height: int, width: int) -> tuple[int, int]:
    """(width, height) of a picture whose shorter side is at least DISPLAY_SIZE."""
    factor = max(1, int(np.ceil(DISPLAY_SIZE / min(height, width))))
    return width * factor, height * factor


def overlay(base: np.ndarray, heatmap: np.ndarray, colormap: str, alpha: float) -> Image.Image:
    """The coloured heatmap over the input picture base (H, W, 3) uint8, enlarged for display."""
    colours = palette_picture(heatmap, colormap).convert("RGB")
    picture = Image.blend(Image.fromarray(base), colours, alpha)  # base + alpha (colours - base)
    return picture.resize(display_size(*heatmap.shape), Image.Resampling.NEAREST)


def enlarged(picture: np.ndarray) -> Image.Image:
    """An RGB picture (H, W, 3) enlarged for display like the maps, pixels kept sharp."""
    return Image.fromarray(picture).resize(
        display_size(*picture.shape[:2]), Image.Resampling.NEAREST
    )


def colour_picture(heatmap: np.ndarray, colormap: str) -> Image.Image:
    """The coloured heatmap alone, enlarged for display: a palette picture, which is a third
    of the bytes to encode of an RGB one."""
    picture = palette_picture(heatmap, colormap)
    return picture.resize(display_size(*heatmap.shape), Image.Resampling.NEAREST)


def png_base64(picture: Image.Image) -> str:
    """The picture as base64 PNG text (app.imaging.png)."""
    return base64.b64encode(png_bytes(picture)).decode()


def npy_base64(array: np.ndarray) -> str:
    """The array as base64 `.npy` text (float32, no pickle)."""
    buffer = io.BytesIO()
    np.save(buffer, array.astype(np.float32), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()
