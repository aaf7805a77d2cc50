"""Hints that a picture looks wrong for the model it was sent to: a colour photograph sent to
a digit model, or a digit-like drawing sent to a photo model. The model still answers; the
hint says why the answer may mean little.

Cheap heuristics on the decoded picture (a copy of about 128 pixels a side, with
transparency composited as the model's preprocessing does), measured on the shipped samples
(MNIST digits, CIFAR-10 images, the photographs) and on canvas drawings (tests/test_hints.py):

- colourfulness: Hasler & Suesstrunk (2003), sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2
  + mean(yb)^2) with rg = R - G, yb = (R + G) / 2 - B on 0-255. 0 for grey pictures; the
  photos score 34-99, MNIST digits 0, the Hubble deep field 10.
- near-binary: the share of pixels within a quarter of the tonal span (1st to 99th
  percentile of grey) of either end. Digits and drawings: 0.93 or more; photos 0.3-0.8.
- background: the share of pixels in the most common of 32 grey-level bins. Digits and
  drawings: 0.7 or more; photos 0.1-0.25 (the Hubble deep field, black sky, 0.75).

A drawing is grey (colourfulness under 4), near-binary (0.85 or more), mostly background
(0.5 or more) and not blank (a tonal span of 96 grey levels or more). A colour photograph has
colourfulness 20 or more ("slightly colourful" and above) and is not near-binary, so that a
digit written in coloured ink, or photographed on grey paper, gives no hint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from app.imaging.pixels import to_rgb
from app.imaging.reduce import shrink, to_eight_bit
from app.store.manifest import Manifest

PHOTO_FOR_DIGITS = (
    "This looks like a colour photograph, but {m.name} reads handwritten digits: it answers "
    "with one of its {m.classes} digits whatever the picture shows. A model trained on "
    "photographs fits it better."
)
DRAWING_FOR_PHOTOS = (
    "This looks like a drawing or a digit (grey, few tones, a plain background), but {m.name} "
    "was trained on photographs: it answers with the nearest of its {m.classes} classes. For a "
    "digit, choose a digit model."
)
WORKING_SIDE = 128  # the copy the statistics are taken on is at least this long
PHOTO_COLOURFULNESS = 20  # "slightly colourful" and above
DRAWING_COLOURFULNESS = 4  # grey
# modes whose RGB copy is grey (`to_rgb`), so their colourfulness is 0: never a photograph
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


class Hint(BaseModel):
    """A sign that the picture does not suit the model (the model still answers)."""

    code: str = Field(description="photo_for_digit_model or drawing_for_photo_model")
    message: str = Field(description="what looks wrong, in a sentence for people")


@dataclass(frozen=True)
class PictureStats:
    colourfulness: float
    tonal_span: float  # grey levels from the 1st to the 99th percentile
    near_binary: float  # share of pixels near either end of that span
    background: float  # share of pixels in the most common grey-level bin


def picture_stats(image: Image.Image, background: str) -> PictureStats:
    """The statistics of a small copy of `image`, transparency on `background`. The grey
    levels are counted once (R + G + B takes 766 values), and the percentiles, the
    near-binary share and the 32-bin histogram are read off those counts: the same numbers
    as numpy's percentile and histogram, at a fraction of their cost per call."""
    pixels = _small_pixels(image, background)
    return PictureStats(colourfulness(pixels), *_grey_stats(pixels))


def _small_pixels(image: Image.Image, background: str) -> np.ndarray:
    """(H, W, 3) uint8 pixels of a copy about WORKING_SIDE a side, on `background`."""
    return np.asarray(to_rgb(to_eight_bit(shrink(image, WORKING_SIDE)), background))


def colourfulness(pixels: np.ndarray) -> float:
    """Hasler & Suesstrunk's colourfulness of (H, W, 3) uint8 pixels (0 for grey ones)."""
    red, green, blue = (pixels[..., i].astype(np.float64) for i in range(3))  # (H, W) each
    rg = red - green
    if not rg.any() and not (green - blue).any():
        return 0.0
    yb = (red + green) / 2 - blue
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def _grey_stats(pixels: np.ndarray) -> tuple[float, float, float]:
    """(tonal span, near-binary share, background share) of the grey levels (R + G + B) / 3."""
    sums = pixels.astype(np.int32).sum(axis=2).ravel()  # 3 x grey, 0..765
    counts = np.bincount(sums, minlength=766)
    total = sums.size
    cumulative = np.cumsum(counts)
    low, high = (_percentile(cumulative, total, q) / 3 for q in (1, 99))
    span = high - low
    band = 0.25 * span
    grey = np.arange(766) / 3
    near = (np.abs(grey - low) <= band) | (np.abs(grey - high) <= band)
    bins = np.minimum(np.arange(766) // 24, 31)  # 32 bins of 8 grey levels over [0, 256)
    background = np.bincount(bins, weights=counts, minlength=32).max() / total
    return float(span), float(counts[near].sum() / total), float(background)


def _percentile(cumulative: np.ndarray, total: int, q: float) -> float:
    """numpy's `linear` percentile of the values whose counts sum to `cumulative`."""
    position = q / 100 * (total - 1)
    below = int(np.floor(position))
    lower = int(np.searchsorted(cumulative, below, side="right"))
    upper = int(np.searchsorted(cumulative, min(below + 1, total - 1), side="right"))
    return lower + (upper - lower) * (position - below)


def looks_like_drawing(stats: PictureStats) -> bool:
    return (
        stats.colourfulness < DRAWING_COLOURFULNESS
        and stats.near_binary >= 0.85
        and stats.background >= 0.5
        and stats.tonal_span >= 96
    )


def looks_like_colour_photo(stats: PictureStats) -> bool:
    return stats.colourfulness >= PHOTO_COLOURFULNESS and stats.near_binary < 0.85


def input_hints(image: Image.Image, manifest: Manifest) -> list[Hint]:
    """The hints for sending `image` to the model that `manifest` describes (often none)."""
    digit_model = manifest.preprocess.digit is not None
    photo_model = not digit_model and manifest.input.channels == 3
    if not (digit_model or photo_model) or (digit_model and image.mode in GREY_MODES):
        return []
    pixels = _small_pixels(image, manifest.preprocess.background)
    colour = colourfulness(pixels)
    # each hint needs the colourfulness on its side of the line: most pictures stop here,
    # before the grey-level statistics
    if colour < PHOTO_COLOURFULNESS if digit_model else colour >= DRAWING_COLOURFULNESS:
        return []
    stats = PictureStats(colour, *_grey_stats(pixels))
    if digit_model and looks_like_colour_photo(stats):
        return [Hint(code="photo_for_digit_model", message=PHOTO_FOR_DIGITS.format(m=manifest))]
    if photo_model and looks_like_drawing(stats):
        return [Hint(code="drawing_for_photo_model", message=DRAWING_FOR_PHOTOS.format(m=manifest))]
    return []
