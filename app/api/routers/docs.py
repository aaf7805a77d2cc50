"""GET /docs: the interactive API docs (Swagger UI), its scripts and styles served from
static/vendor/swagger-ui/ (swagger-ui-dist 5.35.0, Apache-2.0), so they work offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

SWAGGER_UI = "/static/vendor/swagger-ui"
SWAGGER_UI_VERSION = "5.35.0"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def show_api_docs(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json, nothing loaded from elsewhere (no validator badge)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title}: API docs",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
