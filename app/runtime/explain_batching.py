"""Explanation batching: explanations admitted together by the explain gate (same model,
method and parameters; `app.runtime.gate`) share their explain-graph runs. Each member runs
in its own worker thread; when it asks the gradient engine for a run, it waits until every
member still working has asked for its run of the same graph and ReLU rule, and one
onnxruntime run on the stacked rows serves them all, each getting back exactly its rows.

The members are known when the group forms, so nobody waits on a timer for a request that
might come; a member slower than `WAIT_SECONDS` to arrive (a large decode) is not waited
for longer. A combined run ignores a single member's cancellation (it is one short run);
a member whose client left gets RunCancelledError afterwards, as it would alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import onnxruntime as ort

from app.gradients import ExplainResult
from app.runtime.cancellation import RunCancelledError, current_run_options, with_run_options

Result = TypeVar("Result")
WAIT_SECONDS = 0.5  # longest a member waits for the others to reach the same run
# Rows of one explain run: an explain graph keeps every activation for its backward pass,
# and past about ROW_ELEMENTS input elements per run another row costs more than it saves
# (measured on 2 cores: 8 rows of a 1x28x28 or 3x32x32 model run fastest per row; a
# 3x224x224 one runs fastest one row at a time, and 32 such rows hold gigabytes).
ROW_ELEMENTS = 2**15
MAX_ROWS = 8
Runner = Callable[[np.ndarray, np.ndarray, np.ndarray], ExplainResult]  # image, seed, top_seed
_GROUP: ContextVar[ExplainGroup | None] = ContextVar("lantern_explain_group", default=None)


@dataclass(eq=False)
class _Part:
    image: np.ndarray  # (n, ...)
    seed: np.ndarray  # (n, K)
    top_seed: np.ndarray  # (n, 1)
    options: ort.RunOptions | None
    result: ExplainResult | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass(eq=False)
class ExplainGroup:
    """Explanations admitted together; `members` of them are still working."""

    members: int
    runs: int = 0  # onnxruntime runs made for the group (for tests and metrics)
    _pending: dict[Hashable, list[_Part]] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def run(
        self,
        key: Hashable,
        image: np.ndarray,
        seed: np.ndarray,
        runner: Runner,
        top_seed: np.ndarray | None = None,
    ) -> ExplainResult:
        """`runner(image, seed, top_seed)`, stacked with the other members' runs of `key`
        (`top_seed` (n, 1), zeros by default: see ExplainSession.run)."""
        top = np.zeros((len(seed), 1), np.float32) if top_seed is None else top_seed
        part = _Part(image, seed, top, current_run_options())
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            self._pending.setdefault(key, []).append(part)
            while not part.done:
                queued = self._pending.get(key, [])
                if part in queued and (len(queued) >= self.members or time.monotonic() >= deadline):
                    parts = self._pending.pop(key)
                    break
                # queued: wait for the others; taken by another member: wait for its run
                self._changed.wait(
                    max(0.001, deadline - time.monotonic()) if part in queued else None
                )
            else:
                return _outcome(part)
        self._serve(parts, runner)
        return _outcome(part)

    def leave(self) -> None:
        """A member is done: runs waiting only for it may go."""
        with self._changed:
            self.members -= 1
            self._changed.notify_all()

    def _serve(self, parts: list[_Part], runner: Runner) -> None:
        """Run `parts` (in stacks of at most `rows_per_run` rows, a part never split) and wake
        their members."""
        for stack in _stacks(parts):
            try:
                results = self._run_stack(stack, runner)
            except BaseException as error:  # every member of the stack hears of it
                results = [None] * len(stack)
                for part in stack:
                    part.error = error
            with self._changed:
                for part, result in zip(stack, results, strict=True):
                    part.result, part.done = result, True
                self._changed.notify_all()

    def _run_stack(self, stack: list[_Part], runner: Runner) -> list[ExplainResult | None]:
        self.runs += 1
        if len(stack) == 1:  # alone: under its own run options, as without a group
            alone = stack[0]
            options = alone.options or ort.RunOptions()
            return [with_run_options(options, runner, alone.image, alone.seed, alone.top_seed)]
        images = np.concatenate([part.image for part in stack])
        seeds = np.concatenate([part.seed for part in stack])
        tops = np.concatenate([part.top_seed for part in stack])
        whole = with_run_options(ort.RunOptions(), runner, images, seeds, tops)
        return split(whole, [len(part.image) for part in stack])


def rows_per_run(row_elements: int) -> int:
    """Rows of inputs of `row_elements` elements each that one explain run should take."""
    return max(1, min(MAX_ROWS, ROW_ELEMENTS // max(1, row_elements)))


def _stacks(parts: list[_Part]) -> list[list[_Part]]:
    stacks: list[list[_Part]] = []
    limit = rows_per_run(parts[0].image[0].size) if parts else MAX_ROWS
    rows = limit
    for part in parts:
        if rows + len(part.image) > limit:
            stacks.append([])
            rows = 0
        stacks[-1].append(part)
        rows += len(part.image)
    return stacks


def _outcome(part: _Part) -> ExplainResult:
    if part.error is not None:
        raise part.error
    if part.options is not None and part.options.terminate:
        raise RunCancelledError("stopped: nobody waits for this result any more")
    assert part.result is not None
    return part.result


def split(whole: ExplainResult, sizes: list[int]) -> list[ExplainResult | None]:
    """`whole`'s rows, cut into consecutive results of `sizes` rows."""
    results: list[ExplainResult | None] = []
    start = 0
    for size in sizes:
        rows = slice(start, start + size)
        grad = whole.input_grad
        results.append(
            ExplainResult(
                whole.logits[rows],
                None if grad is None else grad[rows],
                {name: value[rows] for name, value in whole.activations.items()},
                {name: value[rows] for name, value in whole.gradients.items()},
            )
        )
        start += size
    return results


def current_group() -> ExplainGroup | None:
    """The group of the explanation this worker thread runs, if it has company."""
    group = _GROUP.get()
    return group if group is not None and group.members > 1 else None


def in_group(group: ExplainGroup | None, work: Callable[..., Result], *args: Any) -> Result:
    """`work(*args)` as a member of `group` (call it in the worker thread); it leaves the
    group when it ends, however it ends."""
    token = _GROUP.set(group)
    try:
        return work(*args)
    finally:
        _GROUP.reset(token)
        if group is not None:
            group.leave()
