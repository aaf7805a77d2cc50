"""app/store: entries found by folder, broken entries refused with a log line, lookups by name."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.errors import NotFoundError
from app.runtime.loader import LoadOptions, load_store
from app.store.layout import MANIFEST_FILE, MODEL_FILE
from tests.tiny_models import manifest_fields, tiny_cnn, write_store_entry


@pytest.fixture
def store(tmp_path: Path) -> Path:
    write_store_entry(tmp_path, tiny_cnn(1, 12, 3), manifest_fields("good", 1, 12, 3))
    return tmp_path


def _break(store: Path, name: str, how) -> None:  # type: ignore[no-untyped-def]
    folder = write_store_entry(store, tiny_cnn(1, 12, 3), manifest_fields(name, 1, 12, 3))
    how(folder)


def _edit_manifest(folder: Path, **changes: object) -> None:
    document = json.loads((folder / MANIFEST_FILE).read_text())
    document.update(changes)
    (folder / MANIFEST_FILE).write_text(json.dumps(document))


BREAKAGES = {
    "checksum": lambda f: (f / MODEL_FILE).write_bytes((f / MODEL_FILE).read_bytes() + b"\0"),
    "manifest_json": lambda f: (f / MANIFEST_FILE).write_text("{not json"),
    "manifest_field": lambda f: _edit_manifest(f, labels=["only one"]),
    "manifest_missing": lambda f: (f / MANIFEST_FILE).unlink(),
    "model_missing": lambda f: (f / MODEL_FILE).unlink(),
    "name_mismatch": lambda f: _edit_manifest(f, name="other"),
    "not_onnx": lambda f: _rewrite_model(f, b"definitely not onnx"),
}


def _rewrite_model(folder: Path, data: bytes) -> None:
    from app.store.layout import sha256_of

    (folder / MODEL_FILE).write_bytes(data)
    _edit_manifest(folder, sha256=sha256_of(folder / MODEL_FILE))


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_entry_is_refused_with_a_log_line_while_the_rest_serve(store, breakage, caplog):
    _break(store, "broken", BREAKAGES[breakage])
    with caplog.at_level(logging.ERROR, logger="lantern.store"):
        registry = load_store(store)
    assert list(registry.models) == ["good"]
    assert "broken/1" in registry.refused
    assert any("refused model broken version 1" in record.getMessage() for record in caplog.records)


def test_the_highest_version_is_served_unless_one_is_named(store):
    write_store_entry(
        store, tiny_cnn(1, 12, 3, seed=5), manifest_fields("good", 1, 12, 3), version=10
    )
    write_store_entry(
        store, tiny_cnn(1, 12, 3, seed=6), manifest_fields("good", 1, 12, 3), version=9
    )
    registry = load_store(store)
    assert registry.get("good").version == 10
    assert registry.get("good", 9).version == 9


def test_folders_that_are_not_numeric_versions_are_ignored(store):
    (store / "good" / "latest").mkdir()
    (store / ".cache").mkdir()
    assert set(load_store(store).models["good"]) == {1}


@pytest.mark.parametrize("name", ["../good", "good/1", "/etc/passwd", "", "GOOD"])
def test_names_are_looked_up_never_joined_into_paths(store, name):
    registry = load_store(store)
    with pytest.raises(NotFoundError):
        registry.get(name)


def test_a_missing_store_serves_nothing_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.ERROR, logger="lantern.store"):
        registry = load_store(tmp_path / "absent")
    assert registry.models == {}
    assert "does not exist" in caplog.text


def test_a_loaded_model_counts_its_parameters_and_gives_probabilities(store):
    model = load_store(store).get("good")
    assert model.facts.parameters == 8 * 1 * 9 + 8 + 3 * 8 + 3
    probabilities = model.probabilities(np.zeros((2, 1, 12, 12), np.float32))
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)


def test_a_copied_store_entry_keeps_working(store, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(store, copy)
    assert "good" in load_store(copy).models


def test_an_entry_with_more_outputs_than_labels_is_refused(store):
    fields = manifest_fields("wide", 1, 12, 2)  # the graph has 3 outputs
    write_store_entry(store, tiny_cnn(1, 12, 3), fields)
    registry = load_store(store)
    assert "wide" not in registry.models
    assert "not (2, 2)" in registry.refused["wide/1"]


def test_an_unreadable_manifest_is_refused_not_fatal(store):
    _break(store, "binary", lambda f: (f / MANIFEST_FILE).write_bytes(b"\xff\xfe\x00bad"))
    registry = load_store(store)
    assert "good" in registry.models and "binary/1" in registry.refused


def test_a_version_folder_with_non_ascii_digits_is_ignored(store):
    (store / "good" / "²").mkdir()
    assert set(load_store(store).models["good"]) == {1}


def _graphs(model) -> int:
    """The explain sessions a model holds (the full and the CAM graph, once built)."""
    return sum(key[0] == "explain" for key in model.engine.cache)


def test_explain_graphs_are_built_and_checked_at_load_unless_left_to_their_first_use(
    tiny_store,
):
    lazy = load_store(tiny_store, LoadOptions(eager_explain_graphs=False)).get("tiny_digits")
    eager = load_store(tiny_store, LoadOptions(eager_explain_graphs=True)).get("tiny_digits")
    assert len(lazy.engine.cache) == 0 and lazy.engine.stats.build_seconds == 0
    assert lazy.engine.status == "pending" and lazy.engine.check is None
    assert _graphs(eager) == 2 and eager.engine.status == "verified"
    image = np.zeros((1, 1, 28, 28), np.float32)
    seed = np.eye(lazy.manifest.classes, dtype=np.float32)[:1]
    np.testing.assert_array_equal(
        lazy.engine.run(image, seed).input_grad, eager.engine.run(image, seed).input_grad
    )
    assert _graphs(lazy) == 2 and lazy.engine.stats.build_seconds > 0
    assert lazy.engine.status == "verified" and lazy.engine.check is not None
