"""app/api/server_error.py: an unexpected error is a 500 in the error shape, with a request id."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def test_an_unexpected_error_is_a_500_with_the_request_id_and_a_logged_cause(tiny_store, caplog):
    app = create_app(Settings(model_store=tiny_store, default_model="tiny_digits"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "The server failed to handle this request."}
    }
    assert response.headers["x-request-id"] == "abc-123"
    assert "secret detail" not in response.text
    assert any("unhandled error on GET /boom" in r.getMessage() for r in caplog.records)
