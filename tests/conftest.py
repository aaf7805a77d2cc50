"""Fixtures: a tiny model store built during the session, the app, a client."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from starlette.routing import BaseRoute

from app.api.deps import Services
from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from bench.redis_server import redis_server
from tests.tiny_models import manifest_fields, tiny_cnn, write_store_entry

# The suite checks explain graphs before the app is ready (eager), so that what a test reads
# right after start-up does not race the background check of the default; the background mode
# has its own tests (tests/test_background_check.py). Servers the tests start inherit it.
os.environ.setdefault("LANTERN_EXPLAIN_GRAPHS", "eager")

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SHIPPED_STORE = PROJECT_ROOT / "model_store"


def shared_data(*parts: str) -> Path:
    """A file or folder of the shared training data, `../shared/data` beside the project (CI
    has it); the test skips, saying what is missing, in a clone without it."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"needs the training data {'/'.join(('../shared/data', *parts))}, absent here "
            f"(looked for {path})"
        )
    return path


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny_digits (1x28x28, MNIST-style) v1 and v2, and tiny_rgb (3x16x16, centre crop)."""
    store = tmp_path_factory.mktemp("store")
    digits = manifest_fields("tiny_digits", 1, 28, 10, digit={"box": 20, "canvas": 28})
    write_store_entry(store, tiny_cnn(1, 28, 10, seed=1), digits, version=1)
    write_store_entry(store, tiny_cnn(1, 28, 10, seed=2), digits, version=2)
    rgb = manifest_fields("tiny_rgb", 3, 16, 4, resize="center_crop", resize_shorter_to=18)
    write_store_entry(store, tiny_cnn(3, 16, 4, seed=3), rgb)
    return store


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a loopback port, shared by the session (tests use their own key
    prefixes)."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def settings(tiny_store: Path) -> Settings:
    return Settings(model_store=tiny_store, default_model="tiny_digits", max_body_bytes=64 * 1024)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
def shipped_client() -> Iterator[TestClient]:
    """The app serving the committed model_store/."""
    with TestClient(
        create_app(Settings(model_store=SHIPPED_STORE)), raise_server_exceptions=False
    ) as client:
        yield client


def api_routes(routes: list[BaseRoute]) -> list[APIRoute]:
    """Every APIRoute of an app or router, those of its included routers too (FastAPI keeps an
    included router as one entry of `app.routes`)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def services_of(client: TestClient) -> Services:
    """The app's shared services (registry, batchers, gate, jobs), for tests that look inside."""
    return client.app.state.services  # type: ignore[attr-defined]


def png_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def digit_png() -> bytes:
    """A white '1'-like stroke on black, 28x28."""
    pixels = np.zeros((28, 28), dtype=np.uint8)
    pixels[4:24, 13:16] = 255
    return png_bytes(Image.fromarray(pixels))


def png_post_scope(path: str, length: int, query: bytes = b"") -> dict:
    """The ASGI scope of a POST of a `length`-byte PNG body, for tests that drive the app's
    receive() themselves (stalls, disconnects)."""
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"content-type", b"image/png"), (b"content-length", str(length).encode())],
    }  # fmt: skip
