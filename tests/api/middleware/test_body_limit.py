"""How long a request body may stall: a stalled upload gets 408 `upload_timeout` without ever
holding a model queue place, a slow but steady one is read, and a complete body leaves
`receive` free to wait for the client's disconnect as long as the work takes. (The size limit
is tested with /predict.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.middleware.body_limit import BodyLimitMiddleware
from app.config import Settings
from app.main import create_app
from app.runtime.receiving import ReceivingBudget
from tests.conftest import png_post_scope, services_of

TIMEOUT = 0.2  # seconds
PNG = "image/png"


@pytest.fixture
def impatient(settings: Settings) -> Iterator[TestClient]:
    quick = settings.model_copy(update={"upload_timeout_seconds": TIMEOUT})
    with TestClient(create_app(quick), raise_server_exceptions=False) as client:
        yield client


def test_a_stalled_upload_gets_408_and_holds_no_queue_place(impatient, digit_png):
    services = services_of(impatient)
    batcher = services.batchers.for_model(services.registry.get("tiny_digits"))
    admitted_while_uploading: list[int] = []
    first_half = {"type": "http.request", "body": digit_png[:20], "more_body": True}
    sent: list[dict] = []

    async def receive() -> dict:
        if not admitted_while_uploading:
            admitted_while_uploading.append(batcher.admitted)
            return first_half
        admitted_while_uploading.append(batcher.admitted)
        await asyncio.Event().wait()  # the rest never comes
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    async def call() -> None:
        await impatient.app(png_post_scope("/predict", len(digit_png)), receive, send)

    impatient.portal.call(call)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 408
    assert b'"upload_timeout"' in b"".join(m.get("body", b"") for m in sent)
    assert admitted_while_uploading == [0, 0]
    assert batcher.admitted == 0


def test_a_body_that_arrives_in_time_is_served(impatient, digit_png):
    response = impatient.post("/predict", content=digit_png, headers={"content-type": "image/png"})
    assert response.status_code == 200


def run_middleware(receive_messages, inner_reads: int) -> list:
    """Run BodyLimitMiddleware around an app that calls receive `inner_reads` times; return
    what the app got (messages, or the error it raised)."""
    got: list = []

    async def inner(scope, receive, send) -> None:
        for _ in range(inner_reads):
            try:
                got.append(await receive())
            except Exception as error:
                got.append(error)
                return

    messages = iter(receive_messages)

    async def receive() -> dict:
        step = next(messages)
        if isinstance(step, float):  # a pause, then the next message
            await asyncio.sleep(step)
            step = next(messages)
        return step

    async def send(message: dict) -> None:
        raise AssertionError("the inner app sends nothing")

    budget = ReceivingBudget(1 << 20, 0)
    middleware = BodyLimitMiddleware(inner, 1024, TIMEOUT, budget, retry_after=1)
    asyncio.run(middleware(png_post_scope("/x", 4), receive, send))
    return got


def test_waiting_for_the_disconnect_after_a_complete_body_has_no_time_limit():
    body = {"type": "http.request", "body": b"abcd", "more_body": False}
    got = run_middleware([body, 2 * TIMEOUT, {"type": "http.disconnect"}], inner_reads=2)
    assert got == [body, {"type": "http.disconnect"}]


def test_a_body_part_later_than_the_timeout_raises_408_in_the_reader():
    part = {"type": "http.request", "body": b"ab", "more_body": True}
    rest = {"type": "http.request", "body": b"cd", "more_body": False}
    got = run_middleware([part, 2 * TIMEOUT, rest], inner_reads=2)
    assert got[0] == part
    assert getattr(got[1], "status", None) == 408
    assert getattr(got[1], "code", None) == "upload_timeout"


def test_a_slow_but_steady_body_is_read_however_long_it_takes_in_all():
    parts = [{"type": "http.request", "body": b"a", "more_body": True} for _ in range(3)]
    last = {"type": "http.request", "body": b"b", "more_body": False}
    pause = 0.6 * TIMEOUT  # each gap under the limit, 2.4 limits in all
    got = run_middleware([parts[0], pause, parts[1], pause, parts[2], pause, last], 4)
    assert got == [*parts, last]


@pytest.fixture
def small_budget(settings: Settings) -> Iterator[TestClient]:
    """Bodies of up to 4 MiB, at most 2 MiB of them held at once (1/8 for small bodies)."""
    limits = {"max_body_bytes": 4 * 2**20, "max_receiving_bytes": 2 * 2**20}
    with TestClient(create_app(settings.model_copy(update=limits))) as client:
        yield client


def chunks_of(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_body_past_the_receiving_budget_is_a_503_with_retry_after(small_budget, streamed):
    body = b"\x89PNG\r\n\x1a\n" + bytes(3 * 2**20)
    content = chunks_of(body) if streamed else body
    response = small_budget.post("/predict", content=content, headers={"content-type": PNG})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "overloaded"
    assert response.headers["retry-after"] == "1"
    assert services_of(small_budget).receiving.in_use() == 0  # given back


def test_the_bytes_of_a_served_body_are_given_back_when_its_request_ends(small_budget, digit_png):
    for _ in range(3):
        response = small_budget.post("/predict", content=digit_png, headers={"content-type": PNG})
        assert response.status_code == 200
    assert services_of(small_budget).receiving.in_use() == 0


def test_the_body_bytes_held_show_in_the_metrics(small_budget):
    assert "lantern_receiving_bytes 0.0" in small_budget.get("/metrics").text
