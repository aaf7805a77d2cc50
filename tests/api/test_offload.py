"""Where request work runs: small uploads and bodies on the event loop, the rest in threads."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.api.offload import (
    INLINE_BODY_BYTES,
    for_body,
    prepared_upload,
    preprocessed_upload,
    small_upload,
)
from app.errors import OverloadedError
from app.imaging.decode import ImageLimits
from app.imaging.decode_gate import DecodeGate
from app.runtime.loader import load_store


def png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (side, side), 0).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_digits(tiny_store: Path):
    return load_store(tiny_store).get("tiny_digits")


def full_gate() -> DecodeGate:
    """A decode gate with no room and nobody allowed to wait: every decode at it is refused."""
    gate = DecodeGate(capacity=1 << 30, max_waiting=0, timeout=0.1, retry_after=1)
    gate.used = gate.capacity
    return gate


def test_an_upload_is_small_when_its_headers_state_few_pixels_in_all():
    assert small_upload([png(28)], 28 * 28)
    assert small_upload([png(20), png(20)], 800)
    assert not small_upload([png(20), png(21)], 800)
    assert not small_upload([png(29)], 28 * 28)
    assert not small_upload([b"not an image"], 10**6)  # decoding it in a thread says why


def test_a_small_upload_is_prepared_on_the_loop_past_the_decode_gate(tiny_digits):
    limits = ImageLimits(gate=full_gate())
    threads = []
    original = tiny_digits.prepare

    def noted(blobs, given):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        return original(blobs, given)

    tiny_digits.prepare = noted
    try:

        async def run() -> int:
            (image,) = await prepared_upload(tiny_digits, [png(28)], limits, 28 * 28)
            assert image.array.shape == (1, 28, 28)
            return threading.get_ident()

        assert asyncio.run(run()) == threads[0]
    finally:
        del tiny_digits.prepare


def test_a_larger_upload_is_prepared_in_a_worker_thread_at_the_decode_gate(tiny_digits):
    limits = ImageLimits(gate=full_gate())
    with pytest.raises(OverloadedError):  # it reached the gate, which has no room
        asyncio.run(prepared_upload(tiny_digits, [png(64)], limits, 28 * 28))
    with pytest.raises(OverloadedError):
        asyncio.run(preprocessed_upload(tiny_digits, [png(64)], limits, 28 * 28))
    batch = asyncio.run(preprocessed_upload(tiny_digits, [png(64)], ImageLimits(), 28 * 28))
    assert batch.shape == (1, 1, 28, 28) and batch.dtype == np.float32


@pytest.mark.parametrize(("size", "on_the_loop"), [(10, True), (INLINE_BODY_BYTES + 1, False)])
def test_a_body_is_read_on_the_loop_only_when_small(size, on_the_loop):
    async def run() -> tuple[int, int]:
        return threading.get_ident(), await for_body(b"x" * size, threading.get_ident)

    loop_thread, work_thread = asyncio.run(run())
    assert (work_thread == loop_thread) == on_the_loop
