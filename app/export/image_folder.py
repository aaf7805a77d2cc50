"""Image-folder training data: `root/<class>/*.{jpg,jpeg,png}`, from a folder or a .tar(.gz).

Classes are the folder names, sorted; images are decoded with Pillow into uint8 (N, H, W, 3).
A single wrapping folder (the CIFAR archive's `train/`) is allowed: the class is always an
image's parent folder, and every image must sit at the same depth under one root.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from app.export.datasets import Split

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})


@dataclass(frozen=True)
class ImageFolder:
    """Decoded images (N, H, W, 3) uint8, their int64 labels (N,) and the class names."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def read_image_folder(source: Path, limit: int | None = None) -> ImageFolder:
    """Every image of a folder or tar archive; `limit` keeps about that many in all, the
    same number of each class (the first by name)."""
    files = dict(_archive_files(source) if _is_archive(source) else _folder_files(source))
    if not files:
        raise ValueError(f"{source}: no .jpg, .jpeg or .png images found")
    by_class = _group_by_class(source, files)
    classes = tuple(sorted(by_class))
    if len(classes) < 2:
        raise ValueError(f"{source}: found {len(classes)} class folder(s), need at least 2")
    per_class = -(-limit // len(classes)) if limit else None
    chosen = [
        (label, path)
        for label, name in enumerate(classes)
        for path in sorted(by_class[name])[:per_class]
    ]
    pixels = [_decode(path, files[path]) for _, path in tqdm(chosen, desc="decode", mininterval=2)]
    _check_same_size(pixels, [path for _, path in chosen])
    labels = np.array([label for label, _ in chosen], dtype=np.int64)
    return ImageFolder(np.stack(pixels), labels, classes)


def _is_archive(source: Path) -> bool:
    return source.is_file() and tarfile.is_tarfile(source)


def _archive_files(source: Path) -> Iterator[tuple[PurePosixPath, bytes]]:
    """(path, bytes) of the image members, read straight from the archive."""
    with tarfile.open(source, "r:*") as archive:
        for member in archive:
            path = PurePosixPath(member.name)
            if member.isfile() and path.suffix.lower() in IMAGE_SUFFIXES:
                stream = archive.extractfile(member)
                if stream is not None:
                    yield path, stream.read()


def _folder_files(source: Path) -> Iterator[tuple[PurePosixPath, bytes]]:
    if not source.is_dir():
        raise ValueError(f"{source}: neither a folder nor a .tar/.tar.gz archive")
    for path in source.rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            yield PurePosixPath(path.relative_to(source).as_posix()), path.read_bytes()


def _group_by_class(
    source: Path, files: dict[PurePosixPath, bytes]
) -> dict[str, list[PurePosixPath]]:
    roots = {path.parent.parent for path in files}
    if len(roots) != 1:
        shown = ", ".join(sorted(str(root) for root in roots)[:4])
        raise ValueError(f"{source}: images must be <root>/<class>/<image>, found roots {shown}")
    by_class: dict[str, list[PurePosixPath]] = {}
    for path in files:
        by_class.setdefault(path.parent.name, []).append(path)
    return by_class


def _decode(path: PurePosixPath, data: bytes) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
    except OSError as error:
        raise ValueError(f"{path}: cannot decode the image ({error})") from error


def _check_same_size(pixels: list[np.ndarray], paths: list[PurePosixPath]) -> None:
    first = pixels[0].shape
    for image, path in zip(pixels, paths, strict=True):
        if image.shape != first:
            raise ValueError(
                f"{path}: {image.shape[1]}x{image.shape[0]} pixels, "
                f"but {paths[0]} has {first[1]}x{first[0]}; all images must share one size"
            )


def stratified_split(
    labels: np.ndarray, fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(train ids, validation ids), both sorted: `fraction` of each class (rounded, at least one
    image of a class with two or more) is held out, chosen by a generator seeded with `seed`."""
    rng = np.random.default_rng(seed)
    held_out = []
    for label in np.unique(labels):
        ids = np.flatnonzero(labels == label)
        count = max(1, round(fraction * len(ids))) if len(ids) > 1 and fraction > 0 else 0
        held_out.append(rng.permutation(ids)[:count])
    validation = np.sort(np.concatenate(held_out))
    train = np.setdiff1d(np.arange(len(labels)), validation)
    return train, validation


def channel_statistics(images: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of uint8 images (N, H, W, C) on the [0, 1] scale."""
    total = np.zeros(images.shape[-1])
    squares = np.zeros(images.shape[-1])
    for start in range(0, len(images), chunk):
        block = images[start : start + chunk].astype(np.float64) / 255  # (n, H, W, C)
        total += block.sum(axis=(0, 1, 2))
        squares += np.square(block).sum(axis=(0, 1, 2))
    count = images.size // images.shape[-1]
    mean = total / count
    return mean, np.sqrt(np.maximum(squares / count - mean**2, 0.0))


def to_split(folder: ImageFolder, ids: np.ndarray) -> Split:
    """The chosen images as a Split of uint8 (n, 3, H, W) and their labels."""
    return Split(np.ascontiguousarray(folder.images[ids].transpose(0, 3, 1, 2)), folder.labels[ids])
