"""Dynamic batching: requests for one model that arrive within `max_delay` run as one
onnxruntime batch of up to `max_batch` images; each caller gets back exactly its own rows.
The worker only waits for requests it knows are coming (admitted, still being decoded), so
a lone request adds no delay. A batch stops growing at about `max_batch_seconds` of work, by
the model's measured time per image: on a CPU, batching a large model barely raises its
throughput, but each image added makes the next request wait and holds more activation
memory (a batch of 32 photos takes ~0.5 GB). A batch that takes at most `inline_seconds`
runs on the event loop (a digit model's run costs less than a hand-off to a worker thread
and back); the only request admitted, with nothing queued or running, runs such a batch in
its own task, without the worker. Each model version has a `ModelBatcher` with a bounded
number of admitted requests (the queue) and one worker task that forms batches in arrival
order. A request that waits past its deadline before its batch starts is dropped with 503
`deadline_exceeded`; a full queue answers 503 `overloaded` at once (both with Retry-After)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from starlette.concurrency import run_in_threadpool

from app.errors import DeadlineExceededError, OverloadedError
from app.runtime.model import RunningModel


class BatchObserver(Protocol):
    def batch_ran(self, model: str, images: int, waits: list[float]) -> None: ...

    def rejected(self, reason: str) -> None: ...


@dataclass(frozen=True)
class BatchLimits:
    max_batch: int = 32
    max_delay: float = 0.002  # seconds
    max_batch_seconds: float | None = None  # a batch's work, by the time per image; None: any
    queue_size: int = 64  # requests admitted per model
    retry_after: int = 1  # seconds, for the 503s
    inline_seconds: float = 0.0  # a batch this quick (by the time per image) runs on the loop


@dataclass(eq=False)
class _Job:
    batch: np.ndarray  # (n, C, H, W)
    future: asyncio.Future[np.ndarray]
    queued: float = field(default_factory=time.monotonic)
    started: bool = False


class ModelBatcher:
    """Admission, queue and batch formation for one model version."""

    def __init__(
        self, model: RunningModel, limits: BatchLimits, observer: BatchObserver | None = None
    ) -> None:
        self.model = model
        self.limits = limits
        self.observer = observer
        self.admitted = 0
        self.submitted = 0  # admitted requests that have handed in their batch, until it returns
        self.seconds_per_image: float | None = None  # moving average of the runs so far
        self._jobs: deque[_Job] = deque()
        self._arrived = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._running = False  # the worker is running a batch (perhaps in a worker thread)

    def refuse_if_full(self) -> None:
        """503 `overloaded` now if every one of the model's `queue_size` places is taken."""
        if self.admitted >= self.limits.queue_size:
            self._reject("overloaded")
            raise OverloadedError(
                f"Model '{self.model.name}' has {self.admitted} requests queued; retry shortly.",
                self.limits.retry_after,
            )

    @contextmanager
    def admission(self) -> Iterator[None]:
        """Hold one of the model's `queue_size` places while the request decodes and runs,
        or 503 now."""
        self.refuse_if_full()
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def logits(self, batch: np.ndarray, deadline: float) -> np.ndarray:
        """The model's raw outputs (n, K) for `batch`, run together with its neighbours."""
        if self._alone(len(batch)):
            return self._run_alone(batch)
        job = _Job(batch, asyncio.get_running_loop().create_future())
        self._jobs.append(job)
        self._arrived.set()
        self._ensure_worker()
        self.submitted += 1
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), deadline - time.monotonic())
        except TimeoutError:
            if job.started:
                return await job.future
            self._reject("deadline_exceeded")
            raise DeadlineExceededError(
                "The request waited in the queue past its deadline.", self.limits.retry_after
            ) from None
        finally:
            self.submitted -= 1
            if not job.started and job in self._jobs:
                self._jobs.remove(job)

    def _alone(self, images: int) -> bool:
        """Whether a batch of `images` may run now, on the loop, without the worker: this is
        the only request admitted, nothing is queued or running, and the run is quick."""
        return (
            self.admitted <= 1 and not self._jobs and not self._running and self.runs_inline(images)
        )

    def _run_alone(self, batch: np.ndarray) -> np.ndarray:
        if self.observer is not None:
            self.observer.batch_ran(self.model.name, len(batch), [0.0])
        outputs, seconds = self._timed_run(batch)
        self._timed(seconds, len(batch))
        return outputs

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with suppress(asyncio.CancelledError):
                await self._worker

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"batcher-{self.model.name}")

    async def _work(self) -> None:
        while True:
            while not self._jobs:
                self._arrived.clear()
                await self._arrived.wait()
            await self._gather()
            await self._run(self._take())

    async def _gather(self) -> None:
        """Wait for admitted requests still being decoded, until `max_batch` images are
        queued or the oldest job is `max_delay` old; when every admitted request has handed
        in its batch (queued, or answered and not yet gone: those of the batch that just
        ran), nothing more is coming soon and the batch runs at once."""
        while self._jobs and self._queued_images() < self.batch_images():
            remaining = self._jobs[0].queued + self.limits.max_delay - time.monotonic()
            if remaining <= 0 or self.admitted <= self.submitted:
                return
            self._arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def batch_images(self) -> int:
        """Images one run may take now: `max_batch`, or fewer if they would take longer than
        `max_batch_seconds` (by the runs timed so far)."""
        budget, per_image = self.limits.max_batch_seconds, self.seconds_per_image
        if budget is None or per_image is None:
            return self.limits.max_batch
        return max(1, min(self.limits.max_batch, int(budget / per_image)))

    def _queued_images(self) -> int:
        return sum(len(job.batch) for job in self._jobs)

    def _take(self) -> list[_Job]:
        """The oldest jobs that fit in one batch (a job over `max_batch` runs alone)."""
        taken: list[_Job] = []
        images, most = 0, self.batch_images()
        while self._jobs and (not taken or images + len(self._jobs[0].batch) <= most):
            job = self._jobs.popleft()
            job.started = True
            taken.append(job)
            images += len(job.batch)
        return taken

    async def _run(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        self._running = True
        try:
            outputs = await self._infer(jobs)  # (N, K)
        except Exception as error:  # every caller of the batch hears of a failure; the worker lives
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        finally:
            self._running = False
        offset = 0
        for job in jobs:
            if not job.future.done():
                job.future.set_result(outputs[offset : offset + len(job.batch)])
            offset += len(job.batch)

    async def _infer(self, jobs: list[_Job]) -> np.ndarray:
        started = time.monotonic()
        stacked = np.concatenate([job.batch for job in jobs]) if len(jobs) > 1 else jobs[0].batch
        if self.observer is not None:
            self.observer.batch_ran(
                self.model.name, len(stacked), [started - job.queued for job in jobs]
            )
        if self.runs_inline(len(stacked)):
            outputs, seconds = self._timed_run(stacked)
        else:
            outputs, seconds = await run_in_threadpool(self._timed_run, stacked)
        self._timed(seconds, len(stacked))
        return outputs

    def _timed_run(self, batch: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's outputs for `batch` and the seconds the run took (only the run: not
        the hand-off to a worker thread, which would keep a quick model off the loop)."""
        started = time.perf_counter()
        outputs = self.model.logits(batch)
        return outputs, time.perf_counter() - started

    def runs_inline(self, images: int) -> bool:
        """Whether a batch of `images` runs on the event loop: timed runs say it takes at
        most `inline_seconds` (an untimed model runs in a worker thread)."""
        per_image = self.seconds_per_image
        return per_image is not None and per_image * images <= self.limits.inline_seconds

    def _timed(self, seconds: float, images: int) -> None:
        per_image = seconds / images
        last = self.seconds_per_image
        self.seconds_per_image = per_image if last is None else 0.8 * last + 0.2 * per_image

    def _reject(self, reason: str) -> None:
        if self.observer is not None:
            self.observer.rejected(reason)


class Batchers:
    """One `ModelBatcher` per loaded model version, made on first use inside the event loop."""

    def __init__(self, limits: BatchLimits, observer: BatchObserver | None = None) -> None:
        self.limits = limits
        self.observer = observer
        self._by_model: dict[tuple[str, int], ModelBatcher] = {}

    def for_model(self, model: RunningModel) -> ModelBatcher:
        key = (model.name, model.version)
        batcher = self._by_model.get(key)
        if batcher is None or batcher.model is not model:
            batcher = self._by_model[key] = ModelBatcher(model, self.limits, self.observer)
        return batcher

    def admitted(self) -> int:
        """Requests holding a queue place, over every model (the `/metrics` queue gauge)."""
        return sum(batcher.admitted for batcher in self._by_model.values())

    async def close(self) -> None:
        for batcher in self._by_model.values():
            await batcher.close()
        self._by_model.clear()
