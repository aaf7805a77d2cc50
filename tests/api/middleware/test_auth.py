"""Optional API keys and CORS: with keys set, API routes need `Authorization: Bearer <key>`;
probes, /metrics and the UI stay open; CORS answers only the allowlisted origins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.api.middleware.auth import key_matches
from app.config import Settings
from app.main import create_app

KEY, OTHER_KEY = "k" * 20, "second-key-0123456789"
ORIGIN = "https://ui.example.org"


@pytest.fixture(scope="module")
def guarded(settings: Settings) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": (KEY, OTHER_KEY), "cors_origins": (ORIGIN,)})
    with TestClient(create_app(keyed), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/predict"),
        ("GET", "/models"),
        ("GET", "/models/tiny_rgb"),
        ("POST", "/explain/saliency"),
        ("GET", "/explain"),
        ("GET", "/v2"),
        ("GET", "/v2/models/tiny_rgb"),
        ("POST", "/v2/models/tiny_rgb/infer"),
    ],
)
def test_api_routes_need_a_key(guarded, method, path):
    response = guarded.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["error"]
    if path.startswith("/v2"):
        assert isinstance(error, str)
    else:
        assert error["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"Bearer {KEY}", 200),
        (f"bearer {OTHER_KEY}", 200),
        (f"Bearer {KEY}x", 401),
        (f"Bearer {KEY[:-1]}", 401),
        (f"Basic {KEY}", 401),
        (KEY, 401),
        ("Bearer ", 401),
        ("Bearer ключ".encode(), 401),  # non-ASCII bytes
    ],
)
def test_only_a_configured_bearer_key_opens_the_api(guarded, authorization, status):
    response = guarded.get("/models", headers={"Authorization": authorization})
    assert response.status_code == status


@pytest.mark.parametrize(
    "path",
    ["/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready", "/metrics", "/"],
)
def test_probes_metrics_and_the_ui_stay_open(guarded, path):
    assert guarded.get(path).status_code == 200


def test_a_wrong_key_is_told_apart_from_a_missing_one(guarded):
    missing = guarded.get("/models").headers["www-authenticate"]
    wrong = guarded.get("/models", headers={"Authorization": "Bearer nope"})
    assert "invalid_token" not in missing
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]


def test_without_keys_the_api_is_open(client):
    assert client.get("/models").status_code == 200


def test_cors_preflight_is_answered_for_an_allowed_origin_only(guarded):
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = guarded.options("/predict", headers={"Origin": ORIGIN, **asked})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    refused = guarded.options("/predict", headers={"Origin": "https://evil.example", **asked})
    assert "access-control-allow-origin" not in refused.headers


def test_a_cross_origin_answer_exposes_the_request_id(guarded):
    response = guarded.get("/models", headers={"Origin": ORIGIN, "Authorization": f"Bearer {KEY}"})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


def test_keys_are_compared_against_every_key():
    keys = (b"a" * 16, b"b" * 16)
    assert key_matches("b" * 16, keys) and not key_matches("c" * 16, keys)


@pytest.mark.parametrize("keys", ["short", "a" * 16 + ",tiny", ["a" * 15]])
def test_short_api_keys_are_refused_at_start_up(keys):
    with pytest.raises(ValidationError, match="API key"):
        Settings(api_keys=keys)


def test_keys_and_origins_come_comma_separated_from_the_environment(monkeypatch):
    monkeypatch.setenv("LANTERN_API_KEYS", f" {KEY} , {OTHER_KEY} ")
    monkeypatch.setenv("LANTERN_CORS_ORIGINS", f"{ORIGIN},http://localhost:3000")
    settings = Settings()
    assert settings.api_keys == (KEY, OTHER_KEY)
    assert settings.cors_origins == (ORIGIN, "http://localhost:3000")
