"""The photo samples: each one shipped, at most 512 pixels a side, its licence recorded."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.export.make_photo_samples import LONGEST_SIDE, OUTPUT, PHOTOS, sample_picture
from tests.conftest import png_bytes

LICENCES = (OUTPUT.parent / "LICENSES.md").read_text()


def test_every_photo_is_shipped_small_and_listed_with_its_source_and_licence():
    shipped = sorted(path.stem for path in OUTPUT.glob("*.jpg"))
    assert shipped == sorted(PHOTOS)
    for name, (_, member) in PHOTOS.items():
        with Image.open(OUTPUT / f"{name}.jpg") as photo:
            assert photo.format == "JPEG" and max(photo.size) <= LONGEST_SIDE
        row = next(line for line in LICENCES.splitlines() if line.startswith(f"| `{name}.jpg`"))
        assert member in row and any(word in row for word in ("CC0", "CC BY 2.0", "public domain"))


def test_a_large_photo_is_scaled_to_512_pixels_and_a_grey_one_stays_grey():
    wide = Image.fromarray(np.zeros((600, 1024, 3), np.uint8))
    assert sample_picture(png_bytes(wide)).size == (512, 300)
    grey = Image.fromarray(np.zeros((100, 80), np.uint8))
    small = sample_picture(png_bytes(grey))
    assert small.size == (80, 100) and small.mode == "L"
    buffer = io.BytesIO()
    small.save(buffer, "JPEG")
    assert buffer.getvalue()[:3] == b"\xff\xd8\xff"
