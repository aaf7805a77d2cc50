"""Stopping a request's onnxruntime work once nobody waits for it.

Every session run made for a request goes through `run_session`, which passes the request's
`onnxruntime.RunOptions` (held in a context variable, set in the worker thread by
`with_run_options`). Setting their `terminate` flag stops the run in progress at its next
node and makes every later run fail at once; `run_session` reports that as `RunCancelledError`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np
import onnxruntime as ort

_RUN_OPTIONS: ContextVar[ort.RunOptions | None] = ContextVar("lantern_run_options", default=None)
Result = TypeVar("Result")


class RunCancelledError(Exception):
    """The request's work was stopped (its `terminate` flag was set)."""


def run_session(
    session: ort.InferenceSession, names: Sequence[str] | None, feeds: dict[str, np.ndarray]
) -> list[Any]:
    """`session.run(names, feeds)` under the current request's run options, if any."""
    options = _RUN_OPTIONS.get()
    try:
        return session.run(names, feeds, options)
    except Exception as error:
        if options is not None and options.terminate:
            raise RunCancelledError("stopped: nobody waits for this result any more") from error
        raise


def current_run_options() -> ort.RunOptions | None:
    """The run options of the request this thread works for, if any."""
    return _RUN_OPTIONS.get()


def with_run_options(options: ort.RunOptions, work: Callable[..., Result], *args: Any) -> Result:
    """`work(*args)`, its session runs made under `options` (call it in the worker thread)."""
    token = _RUN_OPTIONS.set(options)
    try:
        return work(*args)
    finally:
        _RUN_OPTIONS.reset(token)
