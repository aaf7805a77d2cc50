"""Where a request's CPU work runs: on the event loop when it is small enough that handing it
to a worker thread and back costs more than the work, else in a worker thread so that the
loop keeps serving. A digit's decode and preprocessing take a fraction of a millisecond;
the hop, with the GIL hand-offs it brings under load, costs about as much again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from starlette.concurrency import run_in_threadpool

from app.imaging.decode import ImageLimits, stated_pixels
from app.imaging.prepare import PreparedImage
from app.runtime.model import RunningModel

Result = TypeVar("Result")
INLINE_BODY_BYTES = 64 * 1024  # a JSON body this small parses in a fraction of a millisecond


async def for_body(body: bytes, work: Callable[..., Result], *args: object) -> Result:
    """`work(*args)`, which reads `body` (parsing, base64): on the loop for a body of at most
    INLINE_BODY_BYTES, else in a worker thread."""
    if len(body) <= INLINE_BODY_BYTES:
        return work(*args)
    return await run_in_threadpool(work, *args)


def small_upload(blobs: list[bytes], most_pixels: int) -> bool:
    """Whether the images' headers state at most `most_pixels` pixels in all."""
    total = 0
    for blob in blobs:
        pixels = stated_pixels(blob)
        if pixels is None:
            return False
        total += pixels
        if total > most_pixels:
            return False
    return True


async def prepared_upload(
    model: RunningModel, blobs: list[bytes], limits: ImageLimits, inline_pixels: int
) -> list[PreparedImage]:
    """The images decoded and preprocessed for `model`: on the loop when their headers state
    at most `inline_pixels` pixels in all (past the decode gate: the loop decodes one upload
    at a time, and that one is small), else in a worker thread."""
    return await _decoded(model.prepare, blobs, limits, inline_pixels)


async def preprocessed_upload(
    model: RunningModel, blobs: list[bytes], limits: ImageLimits, inline_pixels: int
) -> np.ndarray:
    """`prepared_upload`'s model inputs alone, as one batch (N, C, H, W) (or NHWC)."""
    return await _decoded(model.preprocess, blobs, limits, inline_pixels)


async def _decoded(
    decode: Callable[[list[bytes], ImageLimits], Result],
    blobs: list[bytes],
    limits: ImageLimits,
    inline_pixels: int,
) -> Result:
    if inline_pixels > 0 and small_upload(blobs, inline_pixels):
        return decode(blobs, dataclasses.replace(limits, gate=None))
    return await run_in_threadpool(decode, blobs, limits)
