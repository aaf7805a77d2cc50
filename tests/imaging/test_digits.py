"""app/digits.py: MNIST-style normalisation of a digit on any background."""

from __future__ import annotations

import numpy as np
import pytest

from app.imaging.digits import fit_canvas, normalise_digit
from app.store.manifest import DigitNormalisation


def _stroke(background: int, ink: int, size: int = 80) -> np.ndarray:
    pixels = np.full((size, size), background, dtype=np.uint8)
    pixels[10:60, 30:38] = ink  # a tall bar off-centre
    return pixels


@pytest.mark.parametrize(("background", "ink"), [(0, 255), (255, 0), (200, 30)])
def test_a_digit_on_any_background_becomes_a_light_digit_centred_on_black(background, ink):
    canvas = normalise_digit(_stroke(background, ink), DigitNormalisation())
    assert canvas.shape == (28, 28)
    assert canvas[0, 0] == 0 and canvas.max() == pytest.approx(1, abs=0.01)
    rows, cols = np.nonzero(canvas > 0.5)
    assert rows.max() - rows.min() + 1 == 20  # the longer side fits the 20-pixel box
    mass = np.indices(canvas.shape).reshape(2, -1) @ canvas.ravel() / canvas.sum()
    np.testing.assert_allclose(mass, [14, 14], atol=0.6)


def test_an_empty_picture_gives_an_empty_canvas():
    assert normalise_digit(np.zeros((30, 30), np.uint8), DigitNormalisation()).max() == 0


def test_a_canvas_is_padded_centrally_to_a_larger_input():
    padded = fit_canvas(np.ones((28, 28), np.float32), 32, 32)
    assert padded.shape == (32, 32) and padded[2:30, 2:30].min() == 1 and padded.sum() == 28 * 28
