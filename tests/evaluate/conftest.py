"""Fixtures of the evaluation tests: the shipped models and their samples as a job carries
them, a tiny RGB model, and a progress handle that records its reports."""

from __future__ import annotations

import copy
import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.evaluate.cases import ImageCase
from app.evaluate.params import EncodedImage, EvaluationParams
from app.runtime.jobs import JobProgress
from app.runtime.jobs.records import Lease
from app.runtime.loader import LoadOptions, load_store
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory
from tests.conftest import PROJECT_ROOT, SHIPPED_STORE
from tests.tiny_models import manifest_fields, running, tiny_cnn

SAMPLES = PROJECT_ROOT / "static" / "samples"


@cache
def shipped(name: str) -> RunningModel:
    """A model of the committed store, loaded once per test session."""
    return load_store(SHIPPED_STORE, LoadOptions(SessionFactory(1))).get(name)


def sample_images(name: str) -> list[EncodedImage]:
    """The model's samples as the job carries them (labels from the file names)."""
    paths = sorted(p for p in (SAMPLES / name).iterdir() if p.suffix in (".png", ".jpg"))
    return [EncodedImage.of(p.name, p.stem.split("_")[0], p.read_bytes()) for p in paths]


@cache
def tiny_rgb() -> RunningModel:
    """3x16x16 in, 4 classes, a conv layer of 8x8 for the CAMs."""
    return running(tiny_cnn(3, 16, 4, seed=3), manifest_fields("tiny_rgb", 3, 16, 4))


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def noise_images(count: int, size: int = 16, seed: int = 0) -> list[EncodedImage]:
    rng = np.random.default_rng(seed)
    return [
        EncodedImage.of(
            f"noise_{i}.png", None, png(rng.integers(0, 256, (size, size, 3), np.uint8))
        )
        for i in range(count)
    ]


def quick(images: list[EncodedImage], **options: object) -> EvaluationParams:
    """Parameters with small knobs, so that a test runs in a fraction of a second."""
    knobs: dict[str, object] = {
        "steps": 4,
        "random_maps": 1,
        "correlation_runs": 8,
        "sensitivity_samples": 1,
        "randomisation_steps": 2,
        "seed": 7,
    }
    return EvaluationParams.model_validate({**knobs, **options, "images": images})


@dataclass
class Recorder:
    """The reports a run makes; answers `cancel_at` with cancelling."""

    cancel_at: int | None = None
    steps: list[int] = field(default_factory=list)

    def report(self, step: int, _seconds: float) -> Lease:
        self.steps.append(step)
        return "cancelling" if self.cancel_at is not None and step >= self.cancel_at else "running"

    def progress(self) -> JobProgress:
        return JobProgress(self.report)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def with_logits(case: ImageCase, forward: Callable[[np.ndarray], np.ndarray]) -> ImageCase:
    """`case`, its model's forward runs answered by `forward` (batch -> outputs (N, K)): a
    stand-in network whose answers a test can work out by hand."""
    model = copy.copy(case.given.model)
    model.logits = forward  # type: ignore[method-assign]
    return dataclasses.replace(case, given=dataclasses.replace(case.given, model=model))


class Counted:
    """A model's engine or taps that counts the rows of each run, and is the same otherwise."""

    def __init__(self, inner: Any, rows: list[int]) -> None:
        self._inner, self._rows = inner, rows

    def run(self, batch: np.ndarray, *more: Any, **named: Any) -> Any:
        self._rows.append(len(batch))
        return self._inner.run(batch, *more, **named)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def counting(model: RunningModel, rows: list[int]) -> RunningModel:
    """A shallow copy of `model` whose forward runs, explain-graph runs and taps add their
    batch sizes to `rows`."""
    counted = copy.copy(model)
    counted.engine = Counted(model.engine, rows)  # type: ignore[assignment]
    counted.taps = Counted(model.taps, rows)  # type: ignore[assignment]

    def logits(batch: np.ndarray) -> np.ndarray:
        rows.append(len(batch))
        return model.logits(batch)

    counted.logits = logits  # type: ignore[method-assign]
    return counted
