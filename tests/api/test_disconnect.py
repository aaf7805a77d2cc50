"""A client that disconnects mid-explanation stops the work: the onnxruntime run after the
disconnect is terminated, the explain gate is free again and the request counts as 499."""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
import time
from typing import Any

import httpx
import onnxruntime as ort
import pytest

from app.api.disconnect import CLIENT_CLOSED_REQUEST, run_unless_disconnected
from app.config import PROJECT_ROOT
from bench.server import server_process
from tests.conftest import png_post_scope, services_of

SAMPLES = PROJECT_ROOT / "static" / "samples"
PNG = {"content-type": "image/png"}

OCCLUSION = "/explain/occlusion"
QUERY = b"window_height=3&window_width=3&stride=1"  # 677 forward passes: 22 onnxruntime runs


class RunSpy:
    """Counts the session runs made for a request (those with run options); the first one
    then waits until the request's options are told to terminate."""

    def __init__(self, hold_first: bool) -> None:
        self.hold_first = hold_first
        self.finished = 0
        self.terminated = 0
        self.first_done = threading.Event()
        self._run = ort.InferenceSession.run

    def method(self) -> Any:
        """A function to patch InferenceSession.run with (bound like a method)."""
        return lambda session, names, feeds, options=None: self(session, names, feeds, options)

    def __call__(self, session: Any, names: Any, feeds: Any, options: Any = None) -> Any:
        if options is None:  # a run not made for a request (warm-up, loading)
            return self._run(session, names, feeds)
        try:
            outputs = self._run(session, names, feeds, options)
        except Exception:
            self.terminated += 1
            raise
        self.finished += 1
        if self.hold_first and self.finished == 1:
            self.first_done.set()
            for _ in range(500):  # until the server reacts to the disconnect (at most 5 s)
                if options.terminate:
                    break
                threading.Event().wait(0.01)
        return outputs


def post_over_asgi(client, body: bytes, after_body) -> list[dict]:
    """POST an image to the occlusion route straight through ASGI; `after_body` is awaited
    for the next receive() once the body was read. Returns the messages the app sent."""
    scope = png_post_scope(OCCLUSION, len(body), QUERY)
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return pending.pop() if pending else await after_body()

    async def send(message: dict) -> None:
        sent.append(message)

    async def call() -> list[dict]:
        await client.app(scope, receive, send)
        return sent

    return client.portal.call(call)


def status_of(sent: list[dict]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_disconnect_terminates_the_explanation_and_frees_the_gate(client, digit_png, monkeypatch):
    spy = RunSpy(hold_first=True)
    monkeypatch.setattr(ort.InferenceSession, "run", spy.method())

    gate = services_of(client).explain_gate
    held: list[int] = []

    async def disconnect_after_the_first_run() -> dict:
        await asyncio.to_thread(spy.first_done.wait, 5)
        held.append(gate.admitted)
        return {"type": "http.disconnect"}

    sent = post_over_asgi(client, digit_png, disconnect_after_the_first_run)
    assert status_of(sent) == CLIENT_CLOSED_REQUEST
    assert (spy.finished, spy.terminated) == (1, 1)  # the second run found the flag set
    assert (held, gate.admitted) == ([1], 0)  # the slot was held while working, then freed
    metrics = client.get("/metrics").text
    assert 'route="/explain/occlusion",status="499"' in metrics


def test_a_client_that_stays_gets_the_whole_explanation(client, digit_png, monkeypatch):
    spy = RunSpy(hold_first=False)
    monkeypatch.setattr(ort.InferenceSession, "run", spy.method())
    never = asyncio.Event()

    async def stay_connected() -> dict:
        await never.wait()  # cancelled by the server once the work is done
        raise AssertionError("unreachable")

    sent = post_over_asgi(client, digit_png, stay_connected)
    assert status_of(sent) == 200
    assert spy.terminated == 0
    assert spy.finished > 2  # the disconnect above saved real work: this request runs many times


@pytest.mark.parametrize("path", ["/predict", "/explain/saliency"])
def test_ordinary_requests_are_unaffected(client, digit_png, path):
    response = client.post(path, content=digit_png, headers={"content-type": "image/png"})
    assert response.status_code == 200


@pytest.mark.slow
def test_a_real_server_stops_the_work_of_a_client_that_hangs_up():
    """uvicorn tells the app of the closed socket: the abandoned RISE run ends long before a
    complete one, with a 499 access line, and the next explanation is served at once."""
    cat = next((SAMPLES / "cifar_resnet").glob("cat_*.png")).read_bytes()
    target = "/explain/rise?model=cifar_resnet&samples=2000"
    with tempfile.TemporaryFile() as log:
        env = {"LANTERN_LOG_LEVEL": "info", "LANTERN_LOG_FORMAT": "json"}
        with server_process(env, stderr=log) as server:
            complete = httpx.post(server.base + target, content=cat, headers=PNG, timeout=60)
            assert complete.status_code == 200
            with socket.create_connection(("127.0.0.1", server.port)) as connection:
                head = (f"POST {target} HTTP/1.1\r\nHost: lantern\r\nContent-Type: image/png\r\n"
                        f"Content-Length: {len(cat)}\r\n\r\n")  # fmt: skip
                connection.sendall(head.encode() + cat)
                time.sleep(0.2)  # the server has the whole body and is at work
            after = httpx.post(server.base + "/explain/saliency?model=cifar_resnet",
                               content=cat, headers=PNG, timeout=60)  # fmt: skip
            assert after.status_code == 200
        log.seek(0)
        lines = [json.loads(line) for line in log.read().decode().splitlines() if line[:1] == "{"]
    rise = [line for line in lines if line.get("path") == "/explain/rise"]
    (saliency,) = [line for line in lines if line.get("path") == "/explain/saliency"]
    assert [line["status"] for line in rise] == [200, CLIENT_CLOSED_REQUEST]
    assert rise[1]["duration_ms"] < 0.5 * rise[0]["duration_ms"]
    assert saliency["duration_ms"] < 0.5 * rise[0]["duration_ms"]  # it did not wait for RISE


class SilentClient:
    """A request whose client neither sends nor leaves."""

    async def receive(self) -> dict:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_a_request_cancelled_twice_still_outlives_its_worker_thread():
    """At shutdown a handler may be cancelled more than once: its explain slot must not be
    given back while the thread still works."""
    ended = threading.Event()

    def work() -> None:  # no onnxruntime run to terminate: it runs to its end
        time.sleep(0.3)
        ended.set()

    async def cancel_twice() -> bool:
        task = asyncio.ensure_future(run_unless_disconnected(SilentClient(), work))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ended.is_set()

    assert asyncio.run(cancel_twice())
