"""The layout draws the flow, bottom to top, with no import running back up:

    errors, logging -> gradients -> store -> imaging -> runtime -> explain, introspect
    -> config, job kinds -> api -> main

`app.export` (offline, torch) may import anything; nothing online imports it or torch. One
module makes onnxruntime sessions, one holds the cache of derived sessions, one reads
`app.state`, and every JSON route declares its response model."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from tests.conftest import api_routes

APP = PROJECT_ROOT / "app"
LAYERS = (
    ("app.errors", "app.logging_setup"),
    ("app.gradients",),
    ("app.store",),
    ("app.imaging",),
    ("app.runtime",),
    ("app.explain", "app.introspect"),
    ("app.config", "app.job_kinds"),
    ("app.api",),
    ("app.main", "app.__main__", "app.server"),
)
OFFLINE = "app.export"
OFFLINE_ONLY = ("torch", "torchvision", "timm", "captum", "onnxscript")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; `from a import b` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def rank(module: str) -> int | None:
    for index, packages in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return index
    return None


def online_modules() -> dict[str, set[str]]:
    modules = {module_name(path): imports_of(path) for path in APP.rglob("*.py")}
    return {name: found for name, found in modules.items() if not name.startswith(OFFLINE)}


def test_every_online_module_sits_on_a_layer():
    assert [name for name in online_modules() if name != "app" and rank(name) is None] == []


def test_no_import_runs_back_up_the_layers():
    upward = [
        f"{name} imports {target}"
        for name, found in online_modules().items()
        for target in found
        if rank(target) is not None and rank(name) is not None and rank(target) > rank(name)
    ]
    assert upward == []


def test_the_online_half_never_imports_the_offline_half_or_torch():
    offending = [
        f"{name} imports {target}"
        for name, found in online_modules().items()
        for target in found
        if target.startswith(OFFLINE) or target.split(".")[0] in OFFLINE_ONLY
    ]
    assert offending == []


def test_a_served_app_has_loaded_no_offline_module(tmp_path):
    script = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from app.config import Settings\n"
        "from app.main import create_app\n"
        "with TestClient(create_app(Settings())) as client:\n"
        "    assert client.get('/health/ready').status_code == 200\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {OFFLINE_ONLY!r} "
        f"or m.startswith({OFFLINE!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def calls_named(path: Path, attribute: str) -> int:
    tree = ast.parse(path.read_text())
    return sum(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == attribute
        for node in ast.walk(tree)
    )


def test_one_module_makes_onnxruntime_sessions_and_their_options():
    """The server's sessions all come from the one factory; the only other session is the
    gradient engine's calculator for small graphs while it builds (default options)."""
    options = [module_name(p) for p in APP.rglob("*.py") if calls_named(p, "SessionOptions")]
    assert options == ["app.runtime.sessions"]
    makers = [module_name(p) for p in APP.rglob("*.py") if calls_named(p, "InferenceSession")]
    assert sorted(makers) == ["app.gradients.evaluate", "app.runtime.sessions"]


def test_one_module_holds_a_cache_of_sessions():
    """No dict of sessions and no memoising decorator anywhere but the derived-session cache."""
    holders = []
    for path in APP.rglob("*.py"):
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            annotation = getattr(node, "annotation", None)
            text_of = ast.unparse(annotation) if annotation is not None else ""
            if "Session" in text_of and text_of.startswith(("dict", "OrderedDict")):
                holders.append(module_name(path))
        if "lru_cache" in text or "functools.cache" in text or "@cache" in text:
            holders.append(module_name(path))
    assert holders == []
    assert calls_named(APP / "runtime" / "derived.py", "OrderedDict") == 1


def test_only_the_dependency_module_reads_app_state():
    readers = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (APP / "api").rglob("*.py")
        if "app.state" in path.read_text()
    ]
    assert readers == ["app/api/deps.py"]


def test_every_json_route_declares_its_response_model(tmp_path):
    routes = api_routes(create_app(Settings(model_store=tmp_path)).routes)
    missing = [
        route.path
        for route in routes
        if route.include_in_schema
        and issubclass(_response_class(route), JSONResponse)
        and route.response_model is None
    ]
    assert len(routes) > 30 and missing == []


def _response_class(route: APIRoute) -> type:
    """The route's response class (FastAPI wraps the default in a placeholder)."""
    chosen = route.response_class
    return getattr(chosen, "value", chosen)
