"""Graceful shutdown of a real `python -m app`: on SIGTERM it stops accepting connections, lets
the request in flight (a slow batch of large photos) finish with 200, and exits 0 in time."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from bench.server import free_port

GRACE_SECONDS = 20
PHOTOS = 20  # about 0.1 s each to decode and shrink: a request of a second or two


def large_photo() -> bytes:
    """A smooth 2400x2400 JPEG: small to send, slow to decode."""
    y, x = np.mgrid[0:2400, 0:2400]
    pixels = np.stack([x * 255 // 2400, y * 255 // 2400, (x + y) * 255 // 4800], -1)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def start_server(store: Path, port: int, log: io.TextIOBase) -> subprocess.Popen:
    env = {
        **os.environ,
        "LANTERN_MODEL_STORE": str(store),
        "LANTERN_DEFAULT_MODEL": "tiny_rgb",
        "LANTERN_PORT": str(port),
        "LANTERN_LOG_LEVEL": "info",
        "LANTERN_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    return subprocess.Popen([sys.executable, "-m", "app"], env=env, stderr=log)


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("the server did not become ready")


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(tiny_store, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = start_server(tiny_store, port, log)
    try:
        wait_ready(base, process)
        photo = large_photo()
        files = [("file", (f"{i}.jpg", photo, "image/jpeg")) for i in range(PHOTOS)]
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(httpx.post, base + "/predict", files=files, timeout=60)
            time.sleep(0.5)  # the body is in; the server is decoding photos
            assert not slow.done()
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            response = slow.result(timeout=GRACE_SECONDS)
            finished = time.monotonic()
        assert response.status_code == 200
        assert len(response.json()["results"]) == PHOTOS
        with pytest.raises(httpx.TransportError):  # no new connections once draining
            httpx.get(base + "/health/live", timeout=2)
        assert process.wait(timeout=GRACE_SECONDS) == 0
        assert time.monotonic() - signalled < GRACE_SECONDS
        assert finished > signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert "received SIGTERM: draining" in messages
    assert any(line.get("path") == "/predict" and line.get("status") == 200 for line in lines)
