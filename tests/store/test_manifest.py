"""app/store/manifest.py: the manifest refuses what cannot be served, and states the facts
about a model's input, normalisation, outputs and classes."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from app.errors import InvalidTargetError
from app.store.manifest import InputSpec, Manifest, Preprocess
from tests.tiny_models import manifest_fields

SHA = "0" * 64


def _fields(**changes: object) -> dict:
    return {**manifest_fields("tiny", 1, 28, 10), "sha256": SHA, **changes}


def test_a_complete_manifest_validates():
    assert Manifest.model_validate(_fields()).input.channels == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "../escape"},
        {"name": "Upper"},
        {"sha256": "abc"},
        {"labels": ["one"]},
        {"preprocess": {"mean": [0.5, 0.5], "std": [0.2, 0.2]}},
        {"preprocess": {"mean": [0.5], "std": [0.0]}},
        {"input": {"name": "x", "channels": 2, "height": 28, "width": 28}},
        {"unknown_field": 1},
    ],
    ids=[
        "path name",
        "upper case",
        "short sha",
        "one label",
        "mean per channel",
        "zero std",
        "two channels",
        "extra field",
    ],
)
def test_an_impossible_manifest_is_refused(changes):
    with pytest.raises(ValidationError):
        Manifest.model_validate(_fields(**changes))


def test_digit_normalisation_needs_one_channel():
    rgb = manifest_fields("rgb", 3, 28, 10, digit={"box": 20, "canvas": 28})
    with pytest.raises(ValidationError):
        Manifest.model_validate({**rgb, "sha256": SHA})


def _manifest(**changes: object) -> Manifest:
    fields = manifest_fields("m", 3, 8, 3)
    fields["labels"] = ["cat", "dog", "7"]
    return Manifest.model_validate({**fields, **changes, "sha256": "0" * 64})


@pytest.mark.parametrize(("item", "index"), [("dog", 1), ("7", 2), ("0", 0), (1, 1)])
def test_a_class_is_named_by_its_label_first_then_by_its_index(item, index):
    assert _manifest().class_index(item) == index


@pytest.mark.parametrize("item", ["3", "-1", "1.5", "²", "9" * 5000, 3, True, "bird"])
def test_a_class_that_is_neither_label_nor_index_is_refused(item):
    with pytest.raises(InvalidTargetError):
        _manifest().class_index(item)


def test_ranking_is_best_first_with_labels_and_ties_in_index_order():
    (ranked,) = _manifest().ranked(np.array([[0.25, 0.5, 0.25]]), 3)
    assert [(c.index, c.label) for c in ranked] == [(1, "dog"), (0, "cat"), (2, "7")]


def test_logits_become_probabilities_and_probabilities_stay():
    logits = np.array([[0.0, np.log(3.0), 0.0]])
    np.testing.assert_allclose(_manifest().probabilities(logits), [[0.2, 0.6, 0.2]])
    given = np.array([[0.1, 0.7, 0.2]])
    assert _manifest(output="probabilities").probabilities(given) is given


def test_the_input_spec_knows_its_layout():
    spec = InputSpec(name="x", channels=3, height=4, width=5, layout="NHWC")
    batch = np.zeros(spec.batch_shape(2))
    assert batch.shape == (2, 4, 5, 3) and spec.to_nchw(batch).shape == (2, 3, 4, 5)
    assert spec.to_model_layout(spec.to_nchw(batch)).shape == batch.shape


def test_normalisation_and_its_inverse_are_the_manifests_mean_and_std():
    preprocess = Preprocess(mean=(0.5, 0.25), std=(0.25, 0.5))
    pixels = np.random.default_rng(0).random((2, 3, 3))
    np.testing.assert_allclose(preprocess.pixels(preprocess.normalise(pixels)), pixels, atol=1e-6)
    np.testing.assert_allclose(preprocess.input_value(0.0).ravel(), [-2.0, -0.5])


WEIGHTS = {
    "package": "some-weights",
    "version": "1.0",
    "licence": "Apache-2.0",
    "file": "some_weights/model.pth",
    "sha256": "a" * 64,
}


def test_a_provenance_without_plain_words_or_packaged_weights_still_validates():
    provenance = Manifest.model_validate(_fields()).provenance
    assert provenance.trained_on is None and provenance.weights is None


def test_packaged_weights_need_a_full_checksum_and_nothing_unknown():
    provenance = {**_fields()["provenance"], "trained_on": "digits", "weights": WEIGHTS}
    manifest = Manifest.model_validate(_fields(provenance=provenance))
    assert manifest.provenance.weights is not None
    assert manifest.provenance.weights.licence == "Apache-2.0"
    for spoiled in ({**WEIGHTS, "sha256": "abc"}, {**WEIGHTS, "url": "x"}):
        with pytest.raises(ValidationError):
            Manifest.model_validate(_fields(provenance={**provenance, "weights": spoiled}))
