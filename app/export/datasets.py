"""Training data readers: MNIST IDX files here; image folders (`root/<class>/*.jpg`) in
image_folder.py."""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from app.imaging.digits import normalise_digit
from app.store.manifest import DigitNormalisation

MNIST_LABELS = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True)
class Split:
    """Images (N, C, H, W), float32 in [0, 1] or uint8 (converted a batch at a time), and
    int64 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (the MNIST file format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        data = stream.read()
    (magic,) = struct.unpack(">I", data[:4])
    if magic >> 8 != 0x08:
        raise ValueError(f"{path.name}: not an unsigned-byte IDX file (magic {magic:#x})")
    rank = magic & 0xFF
    shape = struct.unpack(f">{rank}I", data[4 : 4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_mnist(
    folder: Path, validation: int = 5000, limit: int | None = None
) -> tuple[Split, Split]:
    """MNIST training digits normalised as the server normalises an upload; the last
    `validation` digits are held out; `limit` keeps only the first digits of the rest."""
    images = read_idx(folder / "train-images-idx3-ubyte.gz")  # (N, 28, 28) uint8
    labels = read_idx(folder / "train-labels-idx1-ubyte.gz").astype(np.int64)
    cut = len(labels) - validation
    train_ids = np.arange(min(cut, limit or cut))
    held_out = np.arange(cut, len(labels))
    return _normalised(images, labels, train_ids), _normalised(images, labels, held_out)


def _normalised(images: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> Split:
    digit = DigitNormalisation()
    progress = tqdm(images[ids], desc="normalise digits", mininterval=2)
    pixels = np.stack([normalise_digit(image, digit) for image in progress])[:, None]
    return Split(pixels, labels[ids])  # (N, 1, 28, 28)
