"""Explanation batching: explanations admitted together share one explain-graph run, each gets
exactly its own rows, and the answers equal those of one explanation at a time."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.gradients import ExplainResult, ExplainSession
from app.main import create_app
from app.runtime.explain_batching import ROW_ELEMENTS, ExplainGroup, in_group, rows_per_run
from tests.conftest import services_of

PNG = {"content-type": "image/png"}


def fake_runner(calls: list[int]):
    """Logits = the first pixel of each row plus its first seed and 10 times its top seed,
    input gradient = twice the row."""

    def run(images: np.ndarray, seeds: np.ndarray, tops: np.ndarray) -> ExplainResult:
        calls.append(len(images))
        logits = images.reshape(len(images), -1)[:, :1] + seeds[:, :1] + 10 * tops
        return ExplainResult(logits, 2 * images)

    return run


def test_members_of_a_group_share_one_run_and_get_their_own_rows():
    calls: list[int] = []
    group = ExplainGroup(3)
    inputs = [np.full((rows, 2, 2), index, np.float32) for index, rows in enumerate((1, 2, 1))]

    def member(image: np.ndarray) -> ExplainResult:
        seeds = np.ones((len(image), 3))
        return in_group(group, group.run, "graph", image, seeds, fake_runner(calls))

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(member, inputs))
    assert calls == [4] and group.runs == 1 and group.members == 0
    for image, result in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(result.input_grad, 2 * image)
        np.testing.assert_array_equal(result.logits[:, 0], image[:, 0, 0] + 1)


def test_each_member_of_a_shared_run_keeps_its_own_top_seeds():
    calls: list[int] = []
    group = ExplainGroup(2)
    tops = {0: None, 1: np.ones((2, 1), np.float32)}  # the first member sends none: zeros

    def member(index: int) -> ExplainResult:
        image = np.full((2, 2, 2), index, np.float32)
        seeds = np.zeros((2, 3))
        runner = fake_runner(calls)
        return in_group(group, group.run, "graph", image, seeds, runner, tops[index])

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(member, (0, 1))
    assert calls == [4]
    np.testing.assert_array_equal(first.logits[:, 0], [0, 0])
    np.testing.assert_array_equal(second.logits[:, 0], [11, 11])


@pytest.mark.parametrize(
    ("shape", "rows"), [((1, 28, 28), 8), ((3, 32, 32), 8), ((3, 64, 64), 2), ((3, 224, 224), 1)]
)
def test_an_explain_run_takes_fewer_rows_the_larger_its_input(shape, rows):
    assert rows_per_run(int(np.prod(shape))) == rows


def test_large_members_of_a_group_run_in_stacks_of_rows_per_run():
    calls: list[int] = []
    group = ExplainGroup(3)
    side = int(np.sqrt(ROW_ELEMENTS // 2)) + 1  # two rows are past ROW_ELEMENTS, one is not
    inputs = [np.full((1, side, side), index, np.float32) for index in range(3)]

    def member(image: np.ndarray) -> ExplainResult:
        return in_group(group, group.run, "graph", image, np.ones((1, 3)), fake_runner(calls))

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(member, inputs))
    assert calls == [1, 1, 1]
    for image, result in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(result.input_grad, 2 * image)


def test_a_member_that_finishes_without_a_run_does_not_hold_the_others():
    calls: list[int] = []
    group = ExplainGroup(2)
    done = threading.Thread(target=in_group, args=(group, lambda: None))
    started = time.monotonic()
    done.start()
    runner = fake_runner(calls)
    result = in_group(group, group.run, "graph", np.ones((1, 2)), np.ones((1, 3)), runner)
    done.join()
    assert calls == [1] and result.input_grad.shape == (1, 2)
    assert time.monotonic() - started < 0.45  # not the whole wait for a member never coming


def test_a_failed_run_reaches_every_member():
    group = ExplainGroup(2)

    def failing(images: np.ndarray, seeds: np.ndarray, tops: np.ndarray) -> ExplainResult:
        raise RuntimeError("onnxruntime said no")

    def member(_: int) -> object:
        try:
            return in_group(group, group.run, "graph", np.ones((1, 2)), np.ones((1, 3)), failing)
        except RuntimeError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        assert all(isinstance(r, RuntimeError) for r in pool.map(member, range(2)))


def _stroke_png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((28, 28), np.uint8)
    row, col = rng.integers(4, 18, 2)
    pixels[row : row + 10, col : col + 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("method", ["saliency", "grad_cam"])
def test_concurrent_explanations_share_one_run_and_match_one_at_a_time(
    settings: Settings, method: str, monkeypatch
):
    blobs = [_stroke_png(seed) for seed in range(4)]
    url = f"/explain/{method}?raw=json"
    relaxed = settings.model_copy(update={"explain_queue_size": 8})
    with TestClient(create_app(relaxed)) as client:
        alone = [client.post(url, content=blob, headers=PNG).json() for blob in blobs]
        runs: list[int] = []
        original = ExplainSession.run

        def counted(self, image, seed, *rest):  # type: ignore[no-untyped-def]
            runs.append(len(image))
            return original(self, image, seed, *rest)

        monkeypatch.setattr(ExplainSession, "run", counted)
        gate = services_of(client).explain_gate
        release = threading.Event()

        async def hold() -> None:
            async with gate.slot(time.monotonic() + 10):
                await asyncio.to_thread(release.wait, 10)

        held = client.portal.start_task_soon(hold)
        with ThreadPoolExecutor(len(blobs)) as pool:
            futures = [pool.submit(client.post, url, content=b, headers=PNG) for b in blobs]
            deadline = time.monotonic() + 5
            while gate.admitted < len(blobs) + 1:  # all four wait behind the holder
                assert time.monotonic() < deadline
                time.sleep(0.005)
            release.set()
            together = [future.result().json() for future in futures]
        held.result(timeout=5)
    assert runs == [len(blobs)]  # four explanations, one onnxruntime run
    for one, other in zip(alone, together, strict=True):
        assert [m["raw"] for m in other["maps"]] == [m["raw"] for m in one["maps"]]
        assert other["predictions"] == one["predictions"]
