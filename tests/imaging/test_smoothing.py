"""app/imaging/smoothing.py: bilinear resizing against torch's, in both directions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.imaging.smoothing import resize_bilinear


@pytest.mark.parametrize(
    ("size", "target"), [((7, 7), (28, 28)), ((65, 65), (28, 40)), ((5, 9), (5, 9))]
)
def test_bilinear_resizing_equals_torchs_interpolate(size, target):
    maps = np.random.default_rng(0).random((3, *size))  # (N, h, w)
    expected = F.interpolate(
        torch.from_numpy(maps)[:, None], size=target, mode="bilinear", align_corners=False
    )[:, 0].numpy()
    np.testing.assert_allclose(resize_bilinear(maps, *target), expected, atol=1e-5)
