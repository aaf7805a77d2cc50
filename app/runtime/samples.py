"""A model's own sample pictures, as its input tensors: the held-out images shipped for the UI
(`<samples root>/<model name>/*.png`, or .jpg, .jpeg, .webp), a small set of the model's data
for the methods that draw baselines from a distribution (GradientSHAP's `baselines=samples`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from app.imaging.decode import ImageLimits
from app.imaging.prepare import preprocess_batch
from app.store.manifest import Manifest

log = logging.getLogger("lantern.store")
MAX_SAMPLES = 64
SAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def load_samples(root: Path | None, manifest: Manifest) -> np.ndarray | None:
    """The model's sample pictures preprocessed as uploads are (N, C, H, W) or NHWC, in file
    name order, at most MAX_SAMPLES; None when it has none. A picture that cannot be read is
    logged and leaves the model without samples; it never stops the model loading."""
    name = manifest.name
    folder = root / name if root is not None else None
    if folder is None or not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES)
    files = files[:MAX_SAMPLES]
    if not files:
        return None
    try:
        return preprocess_batch([path.read_bytes() for path in files], manifest, ImageLimits())
    except Exception as error:  # a broken sample must not stop the model serving
        log.warning("model %s: samples in %s not used: %s", name, folder, error)
        return None
