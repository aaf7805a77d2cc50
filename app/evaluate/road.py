"""ROAD, RemOve And Debias (Rong et al. 2022, "A consistent and efficient evaluation strategy
for attribution methods", https://arxiv.org/abs/2202.00449): the deletion test with the
removed pixels filled by noisy linear imputation (app/evaluate/imputation.py) instead of a
constant, so that where pixels were removed does not show in the filled image and the
model's drop measures what was removed, not the removal's own artefacts.

At each fraction of 10%, 20%, ..., 90% of the pixels, ranked by the map (ties in raster
order), the most relevant first (MoRF: lower is better) and the least relevant first (LeRF:
higher is better) are removed and imputed, and the target's probability is read. Each curve
is summarised by its mean (the area under it per unit of removal). The imputation's noise
comes from a generator seeded per image and map, so a run repeats exactly. The authors read
accuracy over a data set; per image, the probability says the same with less noise."""

from __future__ import annotations

import numpy as np

from app.evaluate.cases import ImageCase
from app.evaluate.imputation import impute_each

FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def road_passes() -> int:
    """Forward passes of the two curves of one map."""
    return 2 * len(FRACTIONS)


def road_curves(
    case: ImageCase, heatmap: np.ndarray, rng: np.random.Generator
) -> tuple[list[float], list[float]]:
    """The target's probability at each fraction removed: most relevant first, least
    relevant first."""
    image = case.nchw()[0]  # (C, H, W)
    rank = _ranks(heatmap).reshape(heatmap.shape)  # 0 for the most relevant pixel
    counts = [round(fraction * heatmap.size) for fraction in FRACTIONS]
    most = [rank < count for count in counts]
    least = [rank >= heatmap.size - count for count in counts]
    imputed = impute_each(image, np.stack(most + least), rng)  # (2F, C, H, W)
    batch = case.given.model_layout(imputed.astype(np.float32))
    probabilities = case.given.scores(batch)[:, case.target]  # (2F,)
    half = len(FRACTIONS)
    return [float(p) for p in probabilities[:half]], [float(p) for p in probabilities[half:]]


def _ranks(heatmap: np.ndarray) -> np.ndarray:
    order = np.argsort(-heatmap.ravel(), kind="stable")
    rank = np.empty(heatmap.size, dtype=np.int64)
    rank[order] = np.arange(heatmap.size)
    return rank
