"""app/api/server_error.py: an unexpected error is a 500 in the error shape of its path (the
protocol's under /v2), with a request id."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from fastapi.testclient import TestClient

from app.api.middleware.server_error import ServerErrorMiddleware
from app.config import Settings
from app.main import create_app

FAILED = "The server failed to handle this request."


def test_an_unexpected_error_is_a_500_with_the_request_id_and_a_logged_cause(tiny_store, caplog):
    app = create_app(Settings(model_store=tiny_store, default_model="tiny_digits"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": FAILED}}
    assert response.headers["x-request-id"] == "abc-123"
    assert "secret detail" not in response.text
    assert any("unhandled error on GET /boom" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v2/models/tiny_digits", {"error": FAILED}),
        ("/models/tiny_digits", {"error": {"code": "internal_error", "message": FAILED}}),
    ],
    ids=["v2 protocol shape", "lantern shape"],
)
def test_an_unexpected_error_is_a_500_in_the_error_shape_of_its_path(
    tiny_store, monkeypatch, path, body
):
    def broken_get(name: str, version: int | None = None) -> None:
        raise RuntimeError("the store went away")

    app = create_app(Settings(model_store=tiny_store, default_model="tiny_digits"))
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(app.state.services.registry, "get", broken_get)
        response = client.get(path, headers={"X-Request-ID": "v2-500"})
    assert response.status_code == 500
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "v2-500"


def test_a_request_cancelled_before_it_answers_gets_the_json_500_and_stays_cancelled():
    """What uvicorn does to the requests still running when the shutdown grace ends."""
    waiting = asyncio.Event()

    async def stuck(scope, receive, send) -> None:
        waiting.set()
        await asyncio.Event().wait()

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run() -> None:
        scope = {"type": "http", "method": "GET", "path": "/models/x", "headers": []}
        task = asyncio.ensure_future(ServerErrorMiddleware(stuck)(scope, receive, send))
        await waiting.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert sent[0]["status"] == 500
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["error"]["code"] == "internal_error"
