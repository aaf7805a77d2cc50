"""cifar_resnet: its size, its exported layer names, and a short training run on a tiny archive
that writes an entry the server loads and the gradient engine covers."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from app.export import onnx_export
from app.export.__main__ import main
from app.export.architectures import ARCHITECTURES
from app.export.folder_training import dataset_name
from app.export.image_folder import stratified_split
from app.export.presets import CIFAR10_LABELS
from app.runtime.derived import DerivedSessions
from app.runtime.engine import GradientEngine
from app.runtime.loader import load_store
from tests.tiny_models import TEST_SESSIONS

CIFAR = ARCHITECTURES["cifar_resnet"]


@pytest.fixture(scope="module")
def exported() -> onnx.ModelProto:
    torch.manual_seed(0)
    data = onnx_export.export_onnx(CIFAR.build(), torch.rand(2, 3, 32, 32))
    return onnx.load_from_string(data)


def test_cifar_resnet_has_at_most_1_5_million_parameters_and_ten_outputs():
    model = CIFAR.build().eval()
    assert sum(p.numel() for p in model.parameters()) <= 1_500_000
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_the_manifest_layers_are_readable_tensors_of_the_exported_graph(exported):
    tensors = {name for node in exported.graph.node for name in node.output}
    assert {CIFAR.cam_layer, *CIFAR.feature_layers} <= tensors
    assert CIFAR.cam_layer == "/layer3/residual/Add_output_0"


def test_the_gradient_engine_covers_cifar_resnet(exported):
    cache = DerivedSessions()
    assert GradientEngine(exported, TEST_SESSIONS, cache, (CIFAR.cam_layer,)).available


def write_cifar_like_archive(path: Path, per_class: int = 5) -> Path:
    """train/<CIFAR class>/<n>.jpg, 32x32 noise tinted by class."""
    rng = np.random.default_rng(0)
    root = path.parent / "cifar_like"
    for index, name in enumerate(CIFAR10_LABELS):
        (root / "train" / name).mkdir(parents=True)
        for n in range(per_class):
            pixels = rng.integers(0, 100, (32, 32, 3)) + 15 * index
            Image.fromarray(pixels.astype(np.uint8)).save(root / "train" / name / f"{n:04d}.jpg")
    with tarfile.open(path, "w:gz") as tar:
        tar.add(root / "train", arcname="train")
    return path


@pytest.mark.slow
def test_a_short_run_writes_an_entry_the_server_loads_with_gradients(tmp_path):
    archive = write_cifar_like_archive(tmp_path / "train.tar.gz")
    main(["train", "cifar_resnet", "--data", str(archive), "--out", str(tmp_path / "store"),
          "--epochs", "1", "--threads", "2"])  # fmt: skip
    manifest = json.loads((tmp_path / "store" / "cifar_resnet" / "1" / "model.json").read_text())
    assert tuple(manifest["labels"]) == CIFAR10_LABELS
    assert manifest["input"] == {"name": "input", "channels": 3, "height": 32, "width": 32,
                                 "layout": "NCHW"}  # fmt: skip
    assert manifest["preprocess"]["resize"] == "center_crop"
    assert manifest["preprocess"]["resize_shorter_to"] == 32
    assert manifest["preprocess"]["background"] == "black"
    assert len(manifest["preprocess"]["mean"]) == len(manifest["preprocess"]["std"]) == 3
    assert manifest["provenance"]["export_command"].startswith("python -m app.export train")
    assert "40 training images, 10 held out" in manifest["provenance"]["data"]
    assert str(tmp_path) not in manifest["provenance"]["data"]
    model = load_store(tmp_path / "store").get("cifar_resnet")
    assert model.engine.available and model.layers.cam_layer == CIFAR.cam_layer
    assert model.probabilities(np.zeros((3, 3, 32, 32), np.float32)).shape == (3, 10)


def test_the_data_is_named_in_plain_words_never_by_its_path():
    assert dataset_name(Path("../shared/data/cifar10/train.tar.gz")) == "cifar10"
    assert dataset_name(Path("/srv/flowers")) == "flowers"
    assert dataset_name(Path("pets.tgz")) == "pets"


def test_samples_are_the_first_held_out_image_of_each_class(tmp_path):
    archive = write_cifar_like_archive(tmp_path / "train.tar.gz", per_class=10)
    main(["samples", "--data", str(archive), "--models", "cifar_resnet", "--out",
          str(tmp_path / "samples")])  # fmt: skip
    written = sorted((tmp_path / "samples" / "cifar_resnet").glob("*.png"))
    assert sorted(path.stem.split("_")[0] for path in written) == sorted(CIFAR10_LABELS)
    labels = np.repeat(np.arange(10), 10)  # the archive's order: class by class, by name
    held_out = set(stratified_split(labels, 0.1, 0)[1].tolist())
    assert {int(path.stem.split("_")[1]) for path in written} <= held_out
    with Image.open(written[0]) as sample:
        assert sample.size == (32, 32)
