"""The image-folder loader (folder or tar), the stratified split, the colour augmentation."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.export.image_folder import (
    channel_statistics,
    read_image_folder,
    stratified_split,
    to_split,
)
from app.export.train import TrainConfig, model_inputs, random_crop_flip

COUNTS = {"zebra": 6, "ant": 4, "bee": 5}  # folder names, deliberately not in sorted order


def write_tree(root: Path, size: tuple[int, int] = (8, 6)) -> Path:
    """root/<class>/<n>.{png,jpg,jpeg}: class k's images are flat grey 40 * (k + 1) + n."""
    for index, (name, count) in enumerate(sorted(COUNTS.items())):
        (root / name).mkdir(parents=True)
        for n in range(count):
            pixels = np.full((size[1], size[0], 3), 40 * (index + 1) + n, dtype=np.uint8)
            suffix = (".png", ".jpg", ".JPEG")[n % 3]
            Image.fromarray(pixels).save(root / name / f"{n:04d}{suffix}", quality=100)
    (root / "ant" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tree")


@pytest.fixture
def archive(tree: Path, tmp_path: Path) -> Path:
    """The tree inside a wrapping train/ folder, as the CIFAR archive has it."""
    path = tmp_path / "train.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(tree, arcname="train")
    return path


def test_a_folder_is_read_with_classes_sorted_by_name(tree):
    folder = read_image_folder(tree)
    assert folder.classes == ("ant", "bee", "zebra")
    assert folder.images.shape == (15, 6, 8, 3) and folder.images.dtype == np.uint8
    assert np.bincount(folder.labels).tolist() == [4, 5, 6]
    assert abs(int(folder.images[0, 0, 0, 0]) - 40) <= 2  # ant/0000.png, first by name


def test_an_archive_reads_the_same_images_as_its_folder(tree, archive):
    from_folder, from_archive = read_image_folder(tree), read_image_folder(archive)
    assert from_archive.classes == from_folder.classes
    np.testing.assert_array_equal(from_archive.labels, from_folder.labels)
    np.testing.assert_array_equal(from_archive.images, from_folder.images)


def test_a_limit_takes_the_same_number_of_each_class(archive):
    folder = read_image_folder(archive, limit=6)
    assert np.bincount(folder.labels).tolist() == [2, 2, 2]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root.mkdir(), "no .jpg, .jpeg or .png images"),
        (lambda root: write_tree(root / "x") and write_tree(root / "y"), "found roots"),
        (lambda root: (root / "a").mkdir(parents=True) or _image(root / "a" / "1.png"), "2"),
        (lambda root: write_tree(root) and _image(root / "ant" / "big.png", 9), "one size"),
        (lambda root: root.write_text("plain text"), "neither a folder nor a .tar"),
    ],
    ids=["empty", "two roots", "one class", "mixed sizes", "not a folder"],
)
def test_bad_trees_are_refused_with_a_reason(tmp_path, make, message):
    make(tmp_path / "data")
    with pytest.raises(ValueError, match=message):
        read_image_folder(tmp_path / "data")


def _image(path: Path, side: int = 6) -> None:
    Image.new("RGB", (side, side)).save(path)


def test_the_split_holds_out_a_tenth_of_each_class_and_is_seeded():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, validation = stratified_split(labels, 0.1, seed=4)
    assert np.bincount(labels[validation]).tolist() == [5, 3, 2]
    assert sorted([*train, *validation]) == list(range(100))
    again = stratified_split(labels, 0.1, seed=4)
    np.testing.assert_array_equal(again[1], validation)
    assert not np.array_equal(stratified_split(labels, 0.1, seed=5)[1], validation)


def test_channel_statistics_are_those_of_numpy_on_the_unit_scale():
    images = np.random.default_rng(0).integers(0, 256, (7, 5, 4, 3), dtype=np.uint8)
    mean, std = channel_statistics(images, chunk=3)
    np.testing.assert_allclose(mean, (images / 255).mean(axis=(0, 1, 2)), atol=1e-12)
    np.testing.assert_allclose(std, (images / 255).std(axis=(0, 1, 2)), atol=1e-9)


def test_a_split_is_channels_first_uint8(tree):
    folder = read_image_folder(tree)
    split = to_split(folder, np.array([0, 5]))
    assert split.images.shape == (2, 3, 6, 8) and split.images.dtype == np.uint8


def test_crop_and_flip_keep_shapes_and_are_seeded():
    images = torch.rand(6, 3, 10, 12)
    config = TrainConfig(epochs=1, batch_size=6, learning_rate=0.1, augmentation="crop_flip")
    first = random_crop_flip(images, config, torch.Generator().manual_seed(3))
    second = random_crop_flip(images, config, torch.Generator().manual_seed(3))
    assert first.shape == images.shape
    torch.testing.assert_close(first, second)


def test_every_crop_is_a_window_of_the_padded_image_maybe_mirrored():
    images = torch.rand(16, 3, 5, 7)
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=0.1, crop_padding=2)
    crops = random_crop_flip(images, config, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    flips = 0
    for image, crop in zip(padded, crops, strict=True):
        windows = [image[:, y : y + 5, x : x + 7] for y in range(5) for x in range(5)]
        plain = any(torch.equal(crop, window) for window in windows)
        mirrored = any(torch.equal(crop.flip(-1), window) for window in windows)
        assert plain or mirrored
        flips += int(mirrored and not plain)
    assert 0 < flips < 16


def test_model_inputs_take_uint8_pixels_and_a_mean_per_channel():
    images = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    config = TrainConfig(epochs=1, batch_size=1, learning_rate=0.1, mean=(0.5, 0.0, 1.0),
                         std=(0.5, 1.0, 2.0))  # fmt: skip
    inputs = model_inputs(images, 2, config)
    assert inputs[0, :, 0, 0].tolist() == [1.0, 1.0, 0.0]
