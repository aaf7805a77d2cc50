"""The hostile suite's server: a real `python -m app` serving the shipped model store with the
shipped limits (one onnxruntime thread, as in deploy/), and the peak memory of each attack
against the container's 1 GiB limit. Figures go to the session's log (`-s` shows them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import numpy as np
import pytest
from PIL import Image

from bench.server import Server, server_process
from tests.conftest import SHIPPED_STORE, png_bytes
from tests.hostile.clients import CONTAINER_LIMIT_MIB, peak_mib, reset_peak, rss_mib

HOSTILE_ENV = {
    "LANTERN_MODEL_STORE": str(SHIPPED_STORE),
    "LANTERN_ORT_INTRA_OP_THREADS": "1",
    "LANTERN_HEADER_TIMEOUT_SECONDS": "3",
    "LANTERN_IDLE_TIMEOUT_SECONDS": "3",
    "LANTERN_UPLOAD_TIMEOUT_SECONDS": "4",
}


@dataclass
class Attack:
    """The server's memory over one attack: RSS before, peak during, RSS after."""

    name: str
    before: int = 0
    peak: int = 0
    after: int = 0
    extra: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def hostile() -> Iterator[Server]:
    with server_process(HOSTILE_ENV, timeout=120) as server:
        yield server


@pytest.fixture(scope="session")
def figures() -> Iterator[list[Attack]]:
    recorded: list[Attack] = []
    yield recorded
    print("\nhostile suite, server memory (MiB):")
    for attack in recorded:
        print(" ", json.dumps(attack.__dict__))


@contextmanager
def measured(server: Server, figures: list[Attack], name: str) -> Iterator[Attack]:
    """Reset the server's peak RSS, run the attack, record before/peak/after and check the
    peak against the shipped container's memory limit."""
    attack = Attack(name, before=rss_mib(server.process.pid))
    reset_peak(server.process.pid)
    yield attack
    attack.peak = peak_mib(server.process.pid)
    attack.after = rss_mib(server.process.pid)
    figures.append(attack)
    assert attack.peak < CONTAINER_LIMIT_MIB, attack


@pytest.fixture(scope="session")
def digit() -> bytes:
    pixels = np.zeros((28, 28), dtype=np.uint8)
    pixels[4:24, 13:16] = 255
    return png_bytes(Image.fromarray(pixels))


def predict_ok(server: Server, image: bytes) -> int:
    """A normal /predict while the attack goes on: its status."""
    answer = httpx.post(
        server.base + "/predict",
        content=image,
        headers={"content-type": "image/png"},
        timeout=60,
    )
    return answer.status_code


def error_code(response: httpx.Response) -> str:
    """The code of a Lantern error answer (asserting its shape)."""
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and isinstance(error["message"], str)
    return error["code"]
