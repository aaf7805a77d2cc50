"""Work that stops when its client goes away: an abandoned explanation gives back its CPU and
its place at the explain gate when its current onnxruntime run ends, instead of running to the
end for nobody. Its log line and metrics say 499, the status nginx uses for "client closed
request". (A client that leaves while still waiting for the gate is noticed when its turn
comes, and stopped at its first run.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import onnxruntime as ort
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.api.errors import APIError
from app.runtime.cancellation import with_run_options

Result = TypeVar("Result")
CLIENT_CLOSED_REQUEST = 499


async def wait_for_disconnect(request: Request) -> None:
    """Return once the client has closed the connection (call after the body was read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def run_unless_disconnected(
    request: Request, work: Callable[..., Result], *args: Any
) -> Result:
    """`work(*args)` in a worker thread. If the client disconnects first, its onnxruntime runs
    are terminated (the one in progress stops at its next node) and the answer is 499."""
    options = ort.RunOptions()
    running = asyncio.ensure_future(run_in_threadpool(with_run_options, options, work, *args))
    watching = asyncio.ensure_future(wait_for_disconnect(request))
    try:
        await asyncio.wait((running, watching), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watching.cancel()
        if not running.done():  # the client left, or this request is being cancelled
            options.terminate = True
            await finish(running)
    if watching.done() and not watching.cancelled() and running.exception() is not None:
        raise APIError(
            CLIENT_CLOSED_REQUEST,
            "client_closed_request",
            "The client closed the connection; its explanation was stopped.",
        )
    return running.result()


async def finish(thread_task: asyncio.Future[Any]) -> None:
    """Wait until a worker thread's task is done, even if this request is cancelled meanwhile
    (a shutdown may cancel it twice): the caller's explain slot must outlive the thread. The
    first cancellation is raised once the thread has ended."""
    cancelled: asyncio.CancelledError | None = None
    while not thread_task.done():
        try:
            await asyncio.wait((thread_task,))
        except asyncio.CancelledError as error:
            cancelled = cancelled or error
    thread_task.exception()  # retrieved: a RunCancelledError nobody needs to see
    if cancelled is not None:
        raise cancelled
