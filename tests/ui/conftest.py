"""Browser tests: a real uvicorn serving the committed model_store/, and headless Chromium
(Debian's /usr/bin/chromium, driven by the playwright package; never `playwright install`).

Screenshots of each state go to test-artifacts/ui/ (gitignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import PROJECT_ROOT
from bench.server import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STORE = PROJECT_ROOT / "model_store"
SAMPLES = PROJECT_ROOT / "static" / "samples"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
API_KEY = "ui-test-key-0123456789"
TIMEOUT_MS = 20_000


def store_models() -> list[str]:
    """The models in the store that have samples, mnist_cnn first."""
    names = {path.parent.parent.name for path in STORE.glob("*/*/model.json")}
    shown = sorted(name for name in names if (SAMPLES / name).is_dir())
    return sorted(shown, key=lambda name: name != "mnist_cnn")


@pytest.fixture(scope="session")
def model_name() -> str:
    names = store_models()
    if not names:
        pytest.skip(f"{STORE} holds no model with samples in static/samples/ yet")
    return names[0]


def serve(model: str, **extra: str) -> Iterator[str]:
    env = {"LANTERN_MODEL_STORE": str(STORE), "LANTERN_DEFAULT_MODEL": model, **extra}
    with running_server(env) as base:
        yield base


@pytest.fixture(scope="session")
def base_url(model_name: str) -> Iterator[str]:
    yield from serve(model_name)


@pytest.fixture(scope="session")
def keyed_base_url(model_name: str) -> Iterator[str]:
    """A second server that wants `Authorization: Bearer API_KEY` on its API routes."""
    yield from serve(model_name, LANTERN_API_KEYS=API_KEY)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_tab(browser: Browser, base: str, width: int = 1280, height: int = 800) -> Iterator[Page]:
    """A fresh tab (1280x800 unless told); uncaught script errors fail the test."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A desktop-sized tab on the test server."""
    yield from new_tab(browser, base_url)


@pytest.fixture
def phone(browser: Browser, base_url: str) -> Iterator[Page]:
    """A 375 px wide tab on the test server."""
    yield from new_tab(browser, base_url, width=375)


@pytest.fixture
def keyed_page(browser: Browser, keyed_base_url: str) -> Iterator[Page]:
    yield from new_tab(browser, keyed_base_url)


def screenshot(tab: Page, name: str, full_page: bool = True) -> Path:
    """The page (or with full_page=False, what the window shows) as test-artifacts/ui/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path


def sample(model: str, label: str) -> Path:
    return next((SAMPLES / model).glob(f"{label}_*.png"))


def open_main(tab: Page, model: str) -> None:
    """The main page with `model` chosen, its explanation methods listed, and the first
    sample (which the page shows on arrival) explained."""
    tab.goto(f"/?model={model}")
    tab.wait_for_selector("#method-groups input[name=method]", state="attached")
    tab.wait_for_function(f"document.getElementById('model-select').value === '{model}'")
    if (SAMPLES / model).is_dir():
        wait_for_maps(tab)


def wait_for_maps(tab: Page, label: str | None = None) -> None:
    """Until every ticked method has answered and drawn its maps (of class `label`)."""
    tab.wait_for_selector("#figure-grid figure.map img.heat")
    tab.wait_for_function(
        """label => {
            const grid = document.getElementById('figure-grid');
            if (grid.querySelector('.map.pending')) return false;
            const maps = [...grid.querySelectorAll('figure.map[data-target] img.heat')];
            if (!maps.length || !maps.every(i => i.complete && i.naturalWidth > 0)) return false;
            return !label || maps.every(i => i.closest('figure').querySelector('.title')
                .textContent.includes(`“${label}”`));
        }""",
        arg=label,
    )


def ticked(tab: Page) -> list[str]:
    return tab.eval_on_selector_all(
        "#method-groups input[name=method]:checked", "boxes => boxes.map(b => b.value)"
    )


def open_picker(tab: Page) -> None:
    if not tab.evaluate("document.getElementById('method-picker').open"):
        tab.click("#method-picker > summary")


def wait_for_top_class(tab: Page, label: str) -> None:
    tab.wait_for_function(
        "label => document.querySelector('#top-k li.top .label')?.textContent === label", arg=label
    )


def no_horizontal_scroll(tab: Page) -> bool:
    return bool(
        tab.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    )
