"""Back-pressure with tiny limits: a full model queue or explain gate answers 503 overloaded
with Retry-After at once, and a request still waiting at its deadline gets 503
deadline_exceeded; the server keeps answering afterwards."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings
from app.main import create_app
from app.runtime.batching import ModelBatcher
from tests.conftest import services_of

PNG = {"content-type": "image/png"}


TIGHT = {
    "queue_size": 2,
    "explain_concurrency": 1,
    "explain_queue_size": 1,
    "request_timeout_seconds": 0.3,
    "max_batch_delay_ms": 600,
    "retry_after_seconds": 2,
}


@pytest.fixture
def tight(settings: Settings) -> Iterator[TestClient]:
    """Two places per model queue, one explanation at a time with one waiting, a 0.3 s
    deadline, and a batch delay longer than that."""
    with TestClient(
        create_app(settings.model_copy(update=TIGHT)), raise_server_exceptions=False
    ) as client:
        yield client


@pytest.fixture
def patient(settings: Settings) -> Iterator[TestClient]:
    """`tight` with a deadline no busy machine reaches while a test holds the gate."""
    update = {**TIGHT, "request_timeout_seconds": 60}
    with TestClient(
        create_app(settings.model_copy(update=update)), raise_server_exceptions=False
    ) as client:
        yield client


def _in_background(call) -> Future:
    future: Future = Future()
    threading.Thread(target=lambda: future.set_result(call()), daemon=True).start()
    return future


def _wait_until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.005)


def _assert_503(response, code: str) -> None:
    assert response.status_code == 503
    assert response.json()["error"]["code"] == code
    assert response.headers["retry-after"] == "2"


def _digits_queue(client: TestClient) -> ModelBatcher:
    return services_of(client).batchers.for_model(services_of(client).registry.get("tiny_digits"))


def test_a_lone_request_runs_at_once(tight, digit_png):
    assert tight.post("/predict", content=digit_png, headers=PNG).status_code == 200


def test_a_request_queued_past_its_deadline_gets_deadline_exceeded(tight, digit_png):
    # Another admitted request is still "decoding": the batch waits up to 600 ms for it,
    # and this request's 0.3 s deadline passes first.
    with _digits_queue(tight).admission():
        started = time.monotonic()
        response = tight.post("/predict", content=digit_png, headers=PNG)
    _assert_503(response, "deadline_exceeded")
    assert time.monotonic() - started >= 0.3


def test_a_full_model_queue_refuses_at_once_and_other_models_keep_their_own(tight, digit_png):
    queue = _digits_queue(tight)
    with queue.admission(), queue.admission():
        _assert_503(tight.post("/predict", content=digit_png, headers=PNG), "overloaded")
        v2 = tight.post("/v2/models/tiny_digits/infer", json={"inputs": []})
        assert v2.status_code == 503 and "retry" in v2.json()["error"].lower()
        other = tight.post("/predict?model=tiny_rgb", content=digit_png, headers=PNG)
        assert other.status_code == 200
    assert tight.post("/predict", content=digit_png, headers=PNG).status_code == 200
    metrics = tight.get("/metrics").text
    assert 'lantern_rejected_total{reason="overloaded"} 2.0' in metrics


class _Holder:
    """An explanation place held until `release()`: no test depends on how long a request
    takes to reach the gate on a busy machine."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.gate = services_of(client).explain_gate
        self.released = asyncio.Event()
        self.done = client.portal.start_task_soon(self._hold)
        _wait_until(lambda: self.gate.admitted == 1)

    async def _hold(self) -> None:
        async with self.gate.slot(time.monotonic() + 60):
            await self.released.wait()

    def release(self) -> None:
        self.client.portal.call(self.released.set)
        self.done.result(timeout=5)


def test_explanations_wait_their_turn_until_the_deadline(tight, digit_png):
    holder = _Holder(tight)
    _assert_503(
        tight.post("/explain/saliency", content=digit_png, headers=PNG), "deadline_exceeded"
    )
    holder.release()
    assert tight.post("/explain/saliency", content=digit_png, headers=PNG).status_code == 200


def test_a_full_explain_gate_refuses_at_once(patient, digit_png):
    holder = _Holder(patient)
    waiting = _in_background(
        lambda: patient.post("/explain/saliency", content=digit_png, headers=PNG)
    )
    _wait_until(lambda: services_of(patient).explain_gate.admitted == 2)
    _assert_503(patient.post("/explain/saliency", content=digit_png, headers=PNG), "overloaded")
    holder.release()
    assert waiting.result(timeout=30).status_code == 200  # its turn came before its deadline


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_batch", 0),
        ("max_batch_delay_ms", -1),
        ("queue_size", 0),
        ("explain_concurrency", 0),
        ("explain_queue_size", -1),
        ("request_timeout_seconds", 0),
        ("retry_after_seconds", 0),
        ("shutdown_grace_seconds", -1),
    ],
)
def test_impossible_back_pressure_settings_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})
