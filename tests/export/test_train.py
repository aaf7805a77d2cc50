"""python -m app.export train: a short run writes a store entry the server loads and serves."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from app.export.__main__ import main
from app.export.architectures import ARCHITECTURES
from app.export.datasets import read_idx
from app.export.train import TrainConfig, random_affine
from app.runtime.loader import load_store
from tests.conftest import shared_data


@pytest.mark.parametrize(("name", "parameters"), [("mnist_cnn", 1_199_882), ("lenet5", 61_706)])
def test_the_shipped_architectures_have_their_published_sizes(name, parameters):
    model = ARCHITECTURES[name].build()
    assert sum(p.numel() for p in model.parameters()) == parameters
    size = ARCHITECTURES[name].input_size
    assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)


def test_the_idx_reader_reads_mnist_headers():
    labels = read_idx(shared_data("mnist", "train-labels-idx1-ubyte.gz"))
    assert labels.shape == (60_000,) and labels.max() == 9


def test_augmentation_keeps_shapes_and_is_seeded():
    images = torch.rand(4, 1, 28, 28)
    config = TrainConfig(epochs=1, batch_size=4, learning_rate=1e-3)
    first = random_affine(images, config, torch.Generator().manual_seed(3))
    second = random_affine(images, config, torch.Generator().manual_seed(3))
    assert first.shape == images.shape
    torch.testing.assert_close(first, second)


@pytest.mark.slow
def test_a_short_training_run_writes_an_entry_the_server_loads(tmp_path):
    mnist = shared_data("mnist")
    argv = ["train", "lenet5", "--data", str(mnist), "--out", str(tmp_path), "--epochs", "1",
            "--limit", "2000", "--validation", "500", "--threads", "1"]  # fmt: skip
    main(argv)
    manifest = json.loads((tmp_path / "lenet5" / "1" / "model.json").read_text())
    assert manifest["provenance"]["data"].startswith("MNIST handwritten digits: 2,000 training")
    assert str(mnist) not in manifest["provenance"]["data"]
    assert manifest["provenance"]["epochs"] == 1
    assert manifest["provenance"]["export_command"].startswith("python -m app.export train lenet5")
    assert 0.5 < manifest["provenance"]["validation_accuracy"] <= 1
    model = load_store(tmp_path).get("lenet5")
    assert model.probabilities(np.zeros((3, 1, 32, 32), np.float32)).shape == (3, 10)
    main(argv)  # a second run becomes version 2
    assert (tmp_path / "lenet5" / "2" / "model.onnx").is_file()
