"""Dynamic batching: concurrent requests merge into one run, each caller gets exactly its own
rows (the numbers one-by-one runs give), and the queue bound and deadline hold."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api.errors import as_api_error
from app.config import Settings
from app.errors import DeadlineExceededError, OverloadedError
from app.main import create_app
from app.runtime.batching import BatchLimits, ModelBatcher
from app.runtime.loader import load_store
from tests.conftest import services_of


@dataclass
class Recorder:
    batches: list[int] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)

    def batch_ran(self, model: str, images: int, waits: list[float]) -> None:
        self.batches.append(images)

    def rejected(self, reason: str) -> None:
        self.rejections.append(reason)


class StubModel:
    """Stands in for a RunningModel: row i of the output is input i; a run waits for `gate`
    when given (up to 10 s) and fails when asked."""

    name, version = "stub", 1

    def __init__(self, fail: bool = False, gate: threading.Event | None = None) -> None:
        self.fail = fail
        self.gate = gate

    def logits(self, batch: np.ndarray) -> np.ndarray:
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        if self.fail:
            raise RuntimeError("onnxruntime said no")
        return batch.reshape(len(batch), -1)[:, :2].copy()


@pytest.fixture(scope="module")
def tiny_digits(tiny_store: Path):
    return load_store(tiny_store).get("tiny_digits")


def images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 1, 28, 28)).astype(np.float32)


async def submit_all(batcher: ModelBatcher, batches: list[np.ndarray]) -> list[np.ndarray]:
    """Send `batches` as admitted requests whose places are all taken before the first is
    queued: the worker waits for every one of them, so batches form by count, not by time."""
    deadline = time.monotonic() + 10
    with ExitStack() as places:
        for _ in batches:
            places.enter_context(batcher.admission())
        return list(await asyncio.gather(*(batcher.logits(b, deadline) for b in batches)))


def test_concurrent_requests_run_as_one_batch_with_one_by_one_numbers(tiny_digits):
    recorder = Recorder()
    batcher = ModelBatcher(tiny_digits, BatchLimits(max_batch=16, max_delay=60), recorder)
    requests = [images(n, seed) for seed, n in enumerate((1, 3, 2, 1))]
    results = asyncio.run(submit_all(batcher, requests))
    assert recorder.batches == [7]
    for batch, result in zip(requests, results, strict=True):
        np.testing.assert_allclose(result, tiny_digits.logits(batch), rtol=1e-6, atol=1e-7)


def test_batches_never_exceed_max_batch_and_a_big_request_runs_alone(tiny_digits):
    recorder = Recorder()
    batcher = ModelBatcher(tiny_digits, BatchLimits(max_batch=4, max_delay=60), recorder)
    requests = [images(2, 1), images(2, 2), images(3, 3), images(6, 4)]
    results = asyncio.run(submit_all(batcher, requests))
    assert recorder.batches == [4, 3, 6]
    assert [len(r) for r in results] == [2, 2, 3, 6]


def test_a_full_queue_answers_503_overloaded_with_retry_after():
    recorder = Recorder()
    batcher = ModelBatcher(StubModel(), BatchLimits(queue_size=2, retry_after=7), recorder)
    with batcher.admission(), batcher.admission(), pytest.raises(OverloadedError) as refused:
        batcher.admission().__enter__()
    answer = as_api_error(refused.value)
    assert (answer.status, answer.code) == (503, "overloaded")
    assert answer.headers == {"Retry-After": "7"}
    assert recorder.rejections == ["overloaded"]
    with batcher.admission():  # places are given back
        assert batcher.admitted == 1


def test_a_request_still_queued_at_its_deadline_gets_deadline_exceeded():
    recorder = Recorder()
    gate = threading.Event()
    batcher = ModelBatcher(StubModel(gate=gate), BatchLimits(max_batch=1, max_delay=0), recorder)

    async def scenario() -> list[object]:
        now = time.monotonic()

        async def late() -> np.ndarray:
            try:  # waits behind the first request, which holds the model until then
                return await batcher.logits(images(1), now + 0.1)
            finally:
                gate.set()

        first = batcher.logits(images(1), now + 10)
        return await asyncio.gather(first, late(), return_exceptions=True)

    first, late = asyncio.run(scenario())
    assert isinstance(first, np.ndarray)
    assert isinstance(late, DeadlineExceededError) and as_api_error(late).status == 503
    assert recorder.batches == [1]  # the late request never ran


def test_a_failed_run_reaches_every_caller_of_the_batch():
    batcher = ModelBatcher(StubModel(fail=True), BatchLimits(max_delay=0.05))

    async def scenario() -> list[object]:
        deadline = time.monotonic() + 5
        calls = (batcher.logits(images(1, s), deadline) for s in range(3))
        return await asyncio.gather(*calls, return_exceptions=True)

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(scenario()))


def test_concurrent_http_requests_merge_and_match_one_by_one(settings: Settings, digit_png):
    blobs = [digit_png] + [_stroke_png(seed) for seed in range(5)]
    with TestClient(create_app(settings)) as client:
        # A batch of these six runs when it is full, never on a timer.
        services_of(client).batchers.limits = BatchLimits(max_batch=len(blobs), max_delay=60)
        alone = [_predict(client, blob) for blob in blobs]
        runs_before = _runs(client)
        queue = services_of(client).batchers.for_model(
            services_of(client).registry.get("tiny_digits")
        )
        assert queue.limits.max_batch == len(blobs)
        # The place held here keeps the worker waiting until the batch is full.
        with queue.admission(), ThreadPoolExecutor(len(blobs)) as pool:
            together = list(pool.map(lambda blob: _predict(client, blob), blobs))
        runs = _runs(client) - runs_before
    assert runs_before == len(blobs)
    assert together == alone
    assert runs == 1  # six concurrent requests, one onnxruntime run


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


def test_a_batch_stops_growing_at_its_time_budget_once_runs_were_timed():
    limits = BatchLimits(max_batch=32, max_delay=60, max_batch_seconds=0.010)
    batcher = ModelBatcher(StubModel(), limits)
    assert batcher.batch_images() == 32  # nothing timed yet
    batcher._timed(0.012, 4)  # 3 ms per image
    assert batcher.batch_images() == 3
    for _ in range(50):
        batcher._timed(0.040, 1)  # a slow model: one image at a time
    assert batcher.batch_images() == 1
    assert ModelBatcher(StubModel(), BatchLimits(max_batch=32)).batch_images() == 32  # no budget


class ThreadRecorder(StubModel):
    """A StubModel that notes the thread of every run."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def logits(self, batch: np.ndarray) -> np.ndarray:
        self.threads.append(threading.get_ident())
        return super().logits(batch)


@pytest.mark.parametrize(("inline_seconds", "on_the_loop"), [(0.001, True), (0.0, False)])
def test_a_batch_timed_under_inline_seconds_runs_on_the_event_loop(inline_seconds, on_the_loop):
    model = ThreadRecorder()
    batcher = ModelBatcher(model, BatchLimits(max_delay=0, inline_seconds=inline_seconds))

    async def twice() -> tuple[int, list[np.ndarray]]:
        deadline = time.monotonic() + 10
        first = await batcher.logits(images(1), deadline)  # untimed: in a worker thread
        batcher.seconds_per_image = 0.0001  # as if timed at 0.1 ms per image
        second = await batcher.logits(images(2, seed=1), deadline)
        await batcher.close()
        return threading.get_ident(), [first, second]

    loop_thread, outputs = asyncio.run(twice())
    assert model.threads[0] != loop_thread
    assert (model.threads[1] == loop_thread) == on_the_loop
    np.testing.assert_array_equal(outputs[1], images(2, seed=1).reshape(2, -1)[:, :2])


def test_a_batch_longer_than_inline_seconds_runs_in_a_worker_thread():
    batcher = ModelBatcher(StubModel(), BatchLimits(inline_seconds=0.001))
    assert not batcher.runs_inline(1)  # never timed
    batcher._timed(0.0004, 1)
    assert batcher.runs_inline(2) and not batcher.runs_inline(3)


class TaskRecorder(StubModel):
    """A StubModel that notes the asyncio task of every run."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[asyncio.Task | None] = []

    def logits(self, batch: np.ndarray) -> np.ndarray:
        self.tasks.append(asyncio.current_task())
        return super().logits(batch)


def quick_batcher(model: StubModel, recorder: Recorder | None = None) -> ModelBatcher:
    batcher = ModelBatcher(model, BatchLimits(max_delay=60, inline_seconds=0.001), recorder)
    batcher.seconds_per_image = 0.0001  # as if timed at 0.1 ms per image
    return batcher


def test_the_only_admitted_request_runs_a_quick_batch_in_its_own_task():
    model, recorder = TaskRecorder(), Recorder()
    batcher = quick_batcher(model, recorder)

    async def alone() -> tuple[asyncio.Task | None, np.ndarray]:
        with batcher.admission():
            outputs = await batcher.logits(images(2), time.monotonic() + 10)
        return asyncio.current_task(), outputs

    task, outputs = asyncio.run(alone())
    assert model.tasks == [task] and batcher._worker is None
    assert recorder.batches == [2]
    np.testing.assert_array_equal(outputs, images(2).reshape(2, -1)[:, :2])


def test_a_request_with_others_admitted_goes_through_the_worker():
    model = TaskRecorder()
    batcher = quick_batcher(model)

    async def two() -> list[np.ndarray]:
        return await submit_all(batcher, [images(1), images(1, seed=1)])

    outputs = asyncio.run(two())
    assert model.tasks == [batcher._worker]  # one batch of both, run by the worker
    np.testing.assert_array_equal(outputs[1], images(1, seed=1).reshape(1, -1)[:, :2])


def test_a_lone_request_waits_for_a_batch_the_worker_is_running():
    gate = threading.Event()
    model = StubModel(gate=gate)
    batcher = ModelBatcher(model, BatchLimits(max_delay=0, inline_seconds=0.001))

    async def overlapping() -> list[np.ndarray]:
        deadline = time.monotonic() + 10
        first = asyncio.ensure_future(batcher.logits(images(1), deadline))  # untimed: a thread
        while not batcher._running:
            await asyncio.sleep(0.001)
        batcher.seconds_per_image = 0.0001
        second = asyncio.ensure_future(batcher.logits(images(1, seed=1), deadline))
        await asyncio.sleep(0.01)
        assert not second.done()  # not run beside the worker's batch
        gate.set()
        return [await first, await second]

    outputs = asyncio.run(overlapping())
    np.testing.assert_array_equal(outputs[1], images(1, seed=1).reshape(1, -1)[:, :2])


def test_a_batch_does_not_wait_for_the_requests_of_the_batch_that_just_ran():
    gate = threading.Event()
    batcher = ModelBatcher(StubModel(gate=gate), BatchLimits(max_delay=5))  # runs in a thread

    async def request(seed: int) -> np.ndarray:
        with batcher.admission():
            return await batcher.logits(images(1, seed=seed), time.monotonic() + 10)

    async def one_after_another() -> tuple[float, np.ndarray]:
        first = asyncio.ensure_future(request(0))
        while not batcher._running:
            await asyncio.sleep(0.001)
        second = asyncio.ensure_future(request(1))  # queued while the first one runs
        await asyncio.sleep(0.01)
        started = time.monotonic()
        gate.set()  # the first batch ends; its request is answered but still admitted
        await first
        outputs = await second
        await batcher.close()
        return time.monotonic() - started, outputs

    waited, outputs = asyncio.run(one_after_another())
    assert waited < 2.5  # not max_delay: nothing else was coming
    np.testing.assert_array_equal(outputs, images(1, seed=1).reshape(1, -1)[:, :2])
