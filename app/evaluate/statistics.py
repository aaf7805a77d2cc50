"""Summaries over images: the mean with its 95% interval (Student's t), and the correlations
the metrics use (Pearson; Spearman with tied values at their average rank)."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, Field

# Student's t quantile t(0.975, df) for df = 1..30; past 30 the Cornish-Fisher expansion below.
T_975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip
Z_975 = 1.959964


class Interval(BaseModel):
    """A metric over the images: its mean, the 95% interval of the mean (Student's t; none
    with fewer than two values), how many images had a value, and each image's value (None
    where it is undefined, e.g. the correlation of a constant map)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int = Field(description="images with a value")
    values: list[float | None]


def t_quantile(df: int) -> float:
    """t(0.975) of Student's distribution with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= len(T_975):
        return T_975[df - 1]
    z, v = Z_975, float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
    )


def summarise(values: list[float | None]) -> Interval:
    """Mean and 95% interval of the defined (finite) values."""
    kept = [v for v in values if v is not None and math.isfinite(v)]
    shown = [v if v is not None and math.isfinite(v) else None for v in values]
    if not kept:
        return Interval(mean=None, low=None, high=None, n=0, values=shown)
    mean = float(np.mean(kept))
    if len(kept) < 2:
        return Interval(mean=mean, low=None, high=None, n=1, values=shown)
    half = t_quantile(len(kept) - 1) * float(np.std(kept, ddof=1)) / math.sqrt(len(kept))
    return Interval(mean=mean, low=mean - half, high=mean + half, n=len(kept), values=shown)


def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson's correlation of two equally long vectors; None when either is constant."""
    a = np.asarray(a, dtype=np.float64).ravel() - np.mean(a)
    b = np.asarray(b, dtype=np.float64).ravel() - np.mean(b)
    scale = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / scale if scale > 0 else None


def ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of a vector, tied values at the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation (Pearson's of the ranks); None when either is constant."""
    return pearson(ranks(np.ravel(a)), ranks(np.ravel(b)))
