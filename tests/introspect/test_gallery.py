"""The class gallery: a grown picture per class, one row per model."""

from __future__ import annotations

import numpy as np

from app.introspect.activation_maximisation import AscentParams
from app.introspect.gallery import GAP, HEADER, LABEL_WIDTH, TILE, class_images, gallery
from tests.tiny_models import manifest_fields, running, tiny_cnn


def test_every_class_gets_a_picture_of_the_models_input_size():
    model = running(tiny_cnn(3, 16, 4), manifest_fields("tiny", 3, 16, 4))
    pictures = class_images(model, AscentParams(steps=3))
    assert len(pictures) == 4
    assert all(p.shape == (16, 16, 3) and p.dtype == np.uint8 for p in pictures)
    assert not np.array_equal(pictures[0], pictures[1])


def test_the_gallery_has_a_header_and_a_row_of_tiles_per_model():
    white = np.full((28, 28, 3), 255, np.uint8)
    picture = gallery({"a": [white] * 3, "b": [white] * 2}, ["x", "y", "z"])
    assert picture.size == (LABEL_WIDTH + 3 * (TILE + GAP), HEADER + 2 * (TILE + GAP))
    tile = picture.getpixel((LABEL_WIDTH + TILE // 2, HEADER + TILE // 2))
    assert tile == (255, 255, 255)
