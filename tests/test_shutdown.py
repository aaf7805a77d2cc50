"""Graceful shutdown of a real `python -m app`: on SIGTERM it stops accepting connections, lets
the request in flight (a slow batch of large photos) finish with 200, and exits 0 in time."""

from __future__ import annotations

import io
import json
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from bench.server import server_process

GRACE_SECONDS = 20
PHOTOS = 20  # about 0.07 s each to decode and shrink: a request of a second or two


def large_photo() -> bytes:
    """A smooth 2400x2400 PNG: small to send, slow to decode (a JPEG would be drafted at
    1/8 of its size and decode in a few ms, ending the request before uvicorn's shutdown
    tick closes the listening socket)."""
    y, x = np.mgrid[0:2400, 0:2400]
    pixels = np.stack([x * 255 // 2400, y * 255 // 2400, (x + y) * 255 // 4800], -1)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def admitted_requests(base: str) -> float:
    """The server's `lantern_requests_admitted` gauge: requests read, decoded or run now."""
    for line in httpx.get(base + "/metrics", timeout=5).text.splitlines():
        if line.startswith("lantern_requests_admitted "):
            return float(line.split()[1])
    raise AssertionError("/metrics has no lantern_requests_admitted")


def wait_until_admitted(base: str, request: Future, timeout: float = 30) -> None:
    """Wait until the server holds `request` (the queue gauge shows it) before going on."""
    deadline = time.monotonic() + timeout
    while admitted_requests(base) < 1:
        assert not request.done(), f"the request ended before it was seen: {request.result()}"
        assert time.monotonic() < deadline, "the server never showed the request in flight"
        time.sleep(0.02)


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(tiny_store, tmp_path):
    env = {
        "LANTERN_MODEL_STORE": str(tiny_store),
        "LANTERN_DEFAULT_MODEL": "tiny_rgb",
        "LANTERN_LOG_LEVEL": "info",
        "LANTERN_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log, server_process(env, stderr=log) as server:
        photo = large_photo()
        files = [("file", (f"{i}.png", photo, "image/png")) for i in range(PHOTOS)]
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(httpx.post, server.base + "/predict", files=files, timeout=60)
            wait_until_admitted(server.base, slow)  # the server is decoding the photos
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            response = slow.result(timeout=GRACE_SECONDS)
            finished = time.monotonic()
        assert response.status_code == 200
        assert len(response.json()["results"]) == PHOTOS
        with pytest.raises(httpx.TransportError):  # no new connections once draining
            httpx.get(server.base + "/health/live", timeout=2)
        assert server.process.wait(timeout=GRACE_SECONDS) == 0
        assert time.monotonic() - signalled < GRACE_SECONDS
        assert finished > signalled
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert "received SIGTERM: draining" in messages
    assert any(line.get("path") == "/predict" and line.get("status") == 200 for line in lines)


@pytest.mark.slow
def test_requests_still_running_when_the_grace_ends_get_the_json_500(tiny_store, digit_png):
    """Explanations hold the only explain slot for seconds and two more wait behind them, a
    last one waits behind those; the grace is one second, then uvicorn cancels what still
    waits: the last one answers JSON, not text, however fast the machine runs RISE."""
    env = {
        "LANTERN_MODEL_STORE": str(tiny_store),
        "LANTERN_DEFAULT_MODEL": "tiny_digits",
        "LANTERN_SHUTDOWN_GRACE_SECONDS": "1",
        "LANTERN_MAX_FORWARD_PASSES": "16384",
    }
    with server_process(env) as server, ThreadPoolExecutor(4) as pool:
        url = server.base + "/explain/rise?grid=64&samples=16384&target=1&target=2"
        post = {"content": digit_png, "headers": {"content-type": "image/png"}, "timeout": 60}
        ahead = []
        for _ in range(3):  # one runs, two queue (the queue holds four)
            ahead.append(pool.submit(httpx.post, url, **post))
            time.sleep(0.2)
        waiting = pool.submit(httpx.post, server.base + "/explain/saliency", **post)
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        answer = waiting.result(timeout=30)
        assert server.process.wait(timeout=30) == 0
        for request in ahead:
            request.exception(timeout=30)  # answered or cut off: either way it has ended
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == "internal_error"
