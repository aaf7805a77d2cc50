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

from app.api.deps import RegistryDep, SettingsDep
from app.config import PROJECT_ROOT
from app.runtime.samples import SAMPLE_SUFFIXES

STATIC_DIR = PROJECT_ROOT / "static"
SAMPLES_DIR = STATIC_DIR / "samples"
templates = Jinja2Templates(directory=PROJECT_ROOT / "templates")

# The sample a model's page opens on, where its first by name is not the clearest (the cat
# photo, whose Grad-CAM lands on the cat, rather than the astronaut ImageNet has no class for)
OPENING_SAMPLES = {"efficientnet_lite0": "chelsea.jpg"}

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    """/static: the pages' scripts, styles and sample images."""
    return StaticFiles(directory=STATIC_DIR)


@router.get("/", response_class=HTMLResponse)
def show_home(request: Request, registry: RegistryDep, settings: SettingsDep) -> HTMLResponse:
    """The main page: pick a model, give an image, see the classes and the explanations."""
    names = [model.name for model in registry.latest()]
    default = settings.default_model if settings.default_model in names else ""
    default = default or next(iter(names), "")
    context = {"samples": sample_images(names, first=default), "default_model": default}
    return templates.TemplateResponse(request, "index.html", context)


@router.get("/ui/models/{name}", response_class=HTMLResponse)
def show_model(request: Request, registry: RegistryDep, name: str) -> HTMLResponse:
    """A model's page: summary, diagram, filters, feature maps, activation maximisation."""
    names = [model.name for model in registry.latest()]
    if name not in names:
        missing = {"title": "Model not found", "message": f"No model named '{name}' is loaded."}
        return templates.TemplateResponse(request, "not_found.html", missing, status_code=404)
    context = {"model_name": name, "samples": sample_images([name])}
    return templates.TemplateResponse(request, "model.html", context)


def sample_images(models: list[str], first: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The sample pictures shipped for each loaded model, static/samples/<model>/<label>_*.png
    (or .jpg, .jpeg, .webp), in name order but for the one the page opens on
    (`OPENING_SAMPLES`); the model `first` (the default) comes first.

    Folders are matched against the loaded names; a name is never joined into a path."""
    folders = sorted(SAMPLES_DIR.iterdir()) if SAMPLES_DIR.is_dir() else []
    folders.sort(key=lambda folder: folder.name != first)
    return {
        folder.name: [
            _sample(folder.name, path)
            for path in sorted(folder.iterdir(), key=lambda p: _opening_order(folder.name, p))
            if path.suffix.lower() in SAMPLE_SUFFIXES
        ]
        for folder in folders
        if folder.is_dir() and folder.name in models
    }


def _opening_order(model: str, path: Path) -> tuple[bool, str]:
    return (path.name != OPENING_SAMPLES.get(model), path.name)


def _sample(model: str, path: Path) -> dict[str, Any]:
    return {"url": f"/static/samples/{model}/{path.name}", "label": path.stem.split("_")[0]}
