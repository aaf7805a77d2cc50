"""GET /docs: Swagger UI from the vendored files, nothing from a CDN (app/api/docs.py)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.api.routers.docs import SWAGGER_UI, SWAGGER_UI_VERSION
from app.config import PROJECT_ROOT


def test_the_docs_page_loads_its_scripts_and_styles_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith(SWAGGER_UI + "/") for source in sources)
    assert "http://" not in page.text and "https://" not in page.text
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_the_vendored_swagger_ui_carries_its_licence_and_version() -> None:
    folder = PROJECT_ROOT / SWAGGER_UI.removeprefix("/")
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert f"Swagger UI {SWAGGER_UI_VERSION}" in (folder / "README.md").read_text()
    assert (folder / "swagger-ui-bundle.js").stat().st_size > 1_000_000


def test_there_is_no_redoc_page_that_would_need_a_cdn(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
