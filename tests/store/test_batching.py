"""Dynamic batching: concurrent requests merge into one run, each caller gets exactly its own
rows (the numbers one-by-one runs give), and the queue bound and deadline hold."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.errors import ApiError
from app.main import create_app
from app.store.batching import BatchLimits, ModelBatcher
from app.store.registry import load_registry


@dataclass
class Recorder:
    batches: list[int] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)

    def batch_ran(self, model: str, images: int, waits: list[float]) -> None:
        self.batches.append(images)

    def rejected(self, reason: str) -> None:
        self.rejections.append(reason)


class SlowModel:
    """Stands in for a LoadedModel: each run takes `seconds`; row i of the output is input i."""

    name, version = "slow", 1

    def __init__(self, seconds: float, fail: bool = False) -> None:
        self.seconds = seconds
        self.fail = fail

    def logits(self, batch: np.ndarray) -> np.ndarray:
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("onnxruntime said no")
        return batch.reshape(len(batch), -1)[:, :2].copy()


@pytest.fixture(scope="module")
def tiny_digits(tiny_store: Path):
    return load_registry(tiny_store).get("tiny_digits")


def images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 1, 28, 28)).astype(np.float32)


async def submit_all(batcher: ModelBatcher, batches: list[np.ndarray]) -> list[np.ndarray]:
    deadline = time.monotonic() + 10
    return list(await asyncio.gather(*(batcher.logits(b, deadline) for b in batches)))


def test_concurrent_requests_run_as_one_batch_with_one_by_one_numbers(tiny_digits):
    recorder = Recorder()
    batcher = ModelBatcher(tiny_digits, BatchLimits(max_batch=16, max_delay=0.05), recorder)
    requests = [images(n, seed) for seed, n in enumerate((1, 3, 2, 1))]
    results = asyncio.run(submit_all(batcher, requests))
    assert recorder.batches == [7]
    for batch, result in zip(requests, results, strict=True):
        np.testing.assert_allclose(result, tiny_digits.logits(batch), rtol=1e-6, atol=1e-7)


def test_batches_never_exceed_max_batch_and_a_big_request_runs_alone(tiny_digits):
    recorder = Recorder()
    batcher = ModelBatcher(tiny_digits, BatchLimits(max_batch=4, max_delay=0.05), recorder)
    requests = [images(2, 1), images(2, 2), images(3, 3), images(6, 4)]
    results = asyncio.run(submit_all(batcher, requests))
    assert recorder.batches == [4, 3, 6]
    assert [len(r) for r in results] == [2, 2, 3, 6]


def test_a_full_queue_answers_503_overloaded_with_retry_after():
    recorder = Recorder()
    batcher = ModelBatcher(SlowModel(0), BatchLimits(queue_size=2, retry_after=7), recorder)
    with batcher.admission(), batcher.admission(), pytest.raises(ApiError) as refused:
        batcher.admission().__enter__()
    assert (refused.value.status, refused.value.code) == (503, "overloaded")
    assert refused.value.headers == {"Retry-After": "7"}
    assert recorder.rejections == ["overloaded"]
    with batcher.admission():  # places are given back
        assert batcher.admitted == 1


def test_a_request_still_queued_at_its_deadline_gets_deadline_exceeded():
    recorder = Recorder()
    batcher = ModelBatcher(SlowModel(0.3), BatchLimits(max_batch=1, max_delay=0), recorder)

    async def scenario() -> list[object]:
        now = time.monotonic()
        first = batcher.logits(images(1), now + 5)  # occupies the model for 0.3 s
        late = batcher.logits(images(1), now + 0.1)  # waits behind it, gives up at 0.1 s
        return await asyncio.gather(first, late, return_exceptions=True)

    first, late = asyncio.run(scenario())
    assert isinstance(first, np.ndarray)
    assert isinstance(late, ApiError) and (late.status, late.code) == (503, "deadline_exceeded")
    assert recorder.batches == [1]  # the late request never ran


def test_a_failed_run_reaches_every_caller_of_the_batch():
    batcher = ModelBatcher(SlowModel(0, fail=True), BatchLimits(max_delay=0.05))

    async def scenario() -> list[object]:
        deadline = time.monotonic() + 5
        calls = (batcher.logits(images(1, s), deadline) for s in range(3))
        return await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(scenario()))


def test_concurrent_http_requests_merge_and_match_one_by_one(settings: Settings, digit_png):
    tuned = settings.model_copy(update={"max_batch": 8, "max_batch_delay_ms": 150})
    blobs = [digit_png] + [_stroke_png(seed) for seed in range(5)]
    with TestClient(create_app(tuned)) as client:
        alone = [_predict(client, blob) for blob in blobs]
        runs_before = _runs(client)
        start = threading.Barrier(len(blobs))
        with ThreadPoolExecutor(len(blobs)) as pool:
            together = list(pool.map(lambda b: (start.wait(), _predict(client, b))[1], blobs))
        runs = _runs(client) - runs_before
    assert runs_before == len(blobs)
    assert together == alone
    assert runs <= 2  # six concurrent requests, at most two onnxruntime runs


def _predict(client: TestClient, blob: bytes) -> list[float]:
    response = client.post("/predict?top_k=10", content=blob, headers={"content-type": "image/png"})
    return [p["probability"] for p in response.json()["predictions"]]


def _stroke_png(seed: int) -> bytes:
    from PIL import Image

    from tests.conftest import png_bytes

    pixels = np.zeros((28, 28), np.uint8)
    row, col = np.random.default_rng(seed).integers(4, 18, 2)
    pixels[row : row + 10, col : col + 3] = 255
    return png_bytes(Image.fromarray(pixels))


def _runs(client: TestClient) -> float:
    name = 'lantern_batch_size_count{model="tiny_digits"}'
    lines = client.get("/metrics").text.splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(name))
