"""A model's own sample pictures, preprocessed as uploads are, loaded with the model."""

from __future__ import annotations

import logging

import numpy as np

from app.config import PROJECT_ROOT
from app.imaging.decode import ImageLimits
from app.runtime.loader import LoadOptions, load_store
from app.runtime.samples import load_samples
from app.store.manifest import Manifest
from tests.conftest import SHIPPED_STORE
from tests.tiny_models import TEST_SESSIONS, manifest_fields

SAMPLES = PROJECT_ROOT / "static" / "samples"


def digits(name: str) -> Manifest:
    """A digit model's manifest named `name` (its samples are looked up by that name)."""
    return Manifest.model_validate({**manifest_fields(name, 1, 28, 10), "sha256": "0" * 64})


def test_the_shipped_samples_load_with_their_models_in_file_name_order():
    registry = load_store(SHIPPED_STORE, LoadOptions(TEST_SESSIONS, samples=SAMPLES))
    cifar = registry.get("cifar_resnet")
    assert cifar.samples is not None and cifar.samples.shape == (10, 3, 32, 32)
    first = sorted((SAMPLES / "cifar_resnet").glob("*.png"))[0]
    alone = cifar.preprocess([first.read_bytes()], ImageLimits())
    np.testing.assert_array_equal(cifar.samples[0], alone[0])


def test_a_model_without_a_samples_folder_has_none(tmp_path):
    assert load_samples(tmp_path, digits("nothing_here")) is None
    assert load_samples(None, digits("mnist_cnn")) is None
    (tmp_path / "empty").mkdir()
    assert load_samples(tmp_path, digits("empty")) is None


def test_an_unreadable_sample_leaves_the_model_without_samples_and_says_so(tmp_path, caplog):
    (tmp_path / "digits").mkdir()
    (tmp_path / "digits" / "broken.png").write_bytes(b"\x89PNG not really")
    with caplog.at_level(logging.WARNING, logger="lantern.store"):
        assert load_samples(tmp_path, digits("digits")) is None
    assert "samples" in caplog.text and "not used" in caplog.text
