"""The browser UI: GET / (classify and explain) and GET /ui/models/{name} (inside a model).

Pages only; everything they show comes from the JSON API, called by the scripts in static/js.
The pages stay out of the OpenAPI description."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.config import PROJECT_ROOT

STATIC_DIR = PROJECT_ROOT / "static"
SAMPLES_DIR = STATIC_DIR / "samples"
templates = Jinja2Templates(directory=PROJECT_ROOT / "templates")

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    """/static: the pages' scripts, styles and sample images."""
    return StaticFiles(directory=STATIC_DIR)


@router.get("/", response_class=HTMLResponse)
def show_home(request: Request) -> HTMLResponse:
    """The main page: pick a model, give an image, see the classes and the explanations."""
    names = [model.name for model in request.app.state.registry.latest()]
    context = {"samples": sample_images(names), "default_model": _default_model(request, names)}
    return templates.TemplateResponse(request, "index.html", context)


@router.get("/ui/models/{name}", response_class=HTMLResponse)
def show_model(request: Request, name: str) -> HTMLResponse:
    """A model's page: summary, diagram, filters, feature maps, activation maximisation."""
    names = [model.name for model in request.app.state.registry.latest()]
    if name not in names:
        missing = {"title": "Model not found", "message": f"No model named '{name}' is loaded."}
        return templates.TemplateResponse(request, "not_found.html", missing, status_code=404)
    context = {"model_name": name, "samples": sample_images([name])}
    return templates.TemplateResponse(request, "model.html", context)


SAMPLE_SUFFIXES = (".png", ".jpg")


def sample_images(models: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The sample pictures shipped for each loaded model: static/samples/<model>/<label>_*.png
    (or .jpg; a photo's label is its whole name: chelsea.jpg).

    Folders are matched against the loaded names; a name is never joined into a path."""
    folders = sorted(SAMPLES_DIR.iterdir()) if SAMPLES_DIR.is_dir() else []
    return {
        folder.name: [
            _sample(folder.name, path)
            for path in sorted(folder.iterdir())
            if path.suffix in SAMPLE_SUFFIXES
        ]
        for folder in folders
        if folder.is_dir() and folder.name in models
    }


def _sample(model: str, path: Path) -> dict[str, Any]:
    return {"url": f"/static/samples/{model}/{path.name}", "label": path.stem.split("_")[0]}


def _default_model(request: Request, names: list[str]) -> str:
    default = request.app.state.settings.default_model
    return default if default in names else (names[0] if names else "")
