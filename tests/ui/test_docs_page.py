"""/docs works offline: Swagger UI renders the operations with every request answered by
this server (anything else is blocked and would fail the test)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route

from tests.ui.conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_api_docs_render_their_operations_offline(page: Page, base_url: str) -> None:
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.eval_on_selector_all(
        ".opblock-summary-path", "nodes => nodes.map(n => n.textContent.trim())"
    )
    assert {"/predict", "/explain/grad_cam", "/models/{name}"} <= set(paths)
    assert page.title() == "Lantern: API docs"
    assert elsewhere == []
    screenshot(page, "api_docs")
