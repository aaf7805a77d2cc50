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
    black = np.zeros((28, 28, 3), np.uint8)  # on the gallery's white
    picture = gallery({"a": [black] * 3, "b": [black] * 2}, ["x", "y", "z"])
    assert picture.size == (LABEL_WIDTH + 3 * (TILE + GAP), HEADER + 2 * (TILE + GAP))
    second_row = HEADER + TILE + GAP + TILE // 2
    column = [LABEL_WIDTH + c * (TILE + GAP) + TILE // 2 for c in range(3)]
    assert [picture.getpixel((x, second_row)) for x in column] == [(0, 0, 0)] * 2 + [
        (255, 255, 255)
    ]
