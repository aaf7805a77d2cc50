"""LANTERN_EXPLAIN_GRAPHS=background, the default: the app is ready before the explain graphs
are built and self-checked, gradient requests wait for their model's check, and then every
model is verified."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.runtime.engine import GradientEngine
from app.runtime.registry import ModelRegistry
from bench.server import server_process


def status(client: TestClient, name: str) -> str:
    return client.get(f"/models/{name}").json()["gradients"]["status"]


def wait_for_status(client: TestClient, name: str, wanted: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while status(client, name) != wanted:
        assert time.monotonic() < deadline, f"{name} never became {wanted}"
        time.sleep(0.05)


@pytest.fixture
def background(tiny_store) -> Settings:
    return Settings(
        model_store=tiny_store, default_model="tiny_digits", explain_graphs="background"
    )


def test_the_app_is_ready_while_the_check_still_runs_and_gradients_wait_for_it(
    background, digit_png, monkeypatch
):
    released = threading.Event()
    verify = GradientEngine._verify

    def held(engine, *args):
        released.wait(30)
        return verify(engine, *args)

    monkeypatch.setattr(GradientEngine, "_verify", held)
    with TestClient(create_app(background), raise_server_exceptions=False) as client:
        assert client.get("/health/ready").status_code == 200
        assert status(client, "tiny_digits") == "pending"
        assert client.post("/predict", files={"file": ("d.png", digit_png)}).status_code == 200
        threading.Timer(0.3, released.set).start()
        explained = client.post("/explain/saliency", files={"file": ("d.png", digit_png)})
        assert released.is_set() and explained.status_code == 200
        for name in ("tiny_digits", "tiny_rgb"):
            wait_for_status(client, name, "verified")


def test_every_model_is_checked_in_the_background_without_a_request(background):
    with TestClient(create_app(background), raise_server_exceptions=False) as client:
        for name in ("tiny_digits", "tiny_rgb"):
            wait_for_status(client, name, "verified")
        check = client.get("/models/tiny_rgb").json()["gradients"]["check"]
        assert check["passed"] and check["seconds"] > 0


def test_a_predictor_replica_never_checks_in_the_background(tiny_store):
    settings = Settings(model_store=tiny_store, explain_graphs="background", role="predictor")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        time.sleep(0.5)
        assert status(client, "tiny_rgb") != "verified"


class HeldEngine:
    """A model's engine whose check waits for `release`, recording that it ran."""

    def __init__(self, release: threading.Event) -> None:
        self.release, self.settled = release, False

    def settle(self) -> None:
        self.release.wait(30)
        self.settled = True


class HeldModel:
    """What the check reads of a RunningModel: its name, version and engine."""

    def __init__(self, name: str, release: threading.Event) -> None:
        self.name, self.version, self.engine = name, 1, HeldEngine(release)


def test_stopping_the_background_check_ends_it_after_the_model_in_hand():
    release = threading.Event()
    models = {name: {1: HeldModel(name, release)} for name in ("first", "second")}
    checking = ModelRegistry(models=models).settle_gradients_in_background()  # type: ignore[arg-type]
    threading.Timer(0.3, release.set).start()
    checking.stop(timeout=30)  # waits for "first", then ends
    assert models["first"][1].engine.settled and not models["second"][1].engine.settled


@pytest.mark.slow
def test_sigterm_while_the_shipped_store_is_being_checked_exits_0():
    """onnxruntime aborts a process that exits while another thread runs a session: the
    shutdown waits for the model in hand (the photo model, checked first)."""
    with server_process({"LANTERN_EXPLAIN_GRAPHS": "background"}) as server:
        assert httpx.get(server.base + "/models/efficientnet_lite0", timeout=10).json()[
            "gradients"
        ]["status"] in ("pending", "verified")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
