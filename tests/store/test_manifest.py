"""app/store/manifest.py: the manifest refuses what cannot be served."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.store.manifest import Manifest
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
