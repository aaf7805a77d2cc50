"""A new user's first minute in the browser: page heights and the time from an upload to the
first explanation map, at 1280x800 and on a 375 px phone. Baseline: the time from the same
upload to its prediction, measured in the same run.

Needs Debian's /usr/bin/chromium and the playwright package (the dev extra).
Usage: python -m bench.first_minute [--model mnist_cnn] [--label 3] [--repeats 3] [--click]
    [--hero docs/screenshot.png]
(--click presses Explain after the prediction, to measure an older page that waited for it;
--hero also saves the desktop's prediction and first row of maps, the README's picture.)"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from app.config import PROJECT_ROOT
from bench.server import running_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENS = {"desktop": (1280, 800), "phone": (375, 800)}
FIRST_MAP = "#figure-grid img.heat"


@dataclass(frozen=True)
class Visit:
    screen: str
    page_height: int  # px, the whole document once the maps are shown
    first_map_top: int  # px from the top of the document to the first map
    prediction_ms: float  # upload -> top class shown
    first_map_ms: float  # upload -> first heatmap shown


def sample_file(model: str, label: str) -> Path:
    """The shipped sample of `model` whose label (the name before any `_`) is `label`."""
    folder = PROJECT_ROOT / "static" / "samples" / model
    return next(path for path in sorted(folder.iterdir()) if path.stem.split("_")[0] == label)


def visit(tab: Page, model: str, picture: Path, click: bool) -> tuple[float, float]:
    """Upload `picture`; (ms to the prediction, ms to the first map)."""
    tab.goto(f"/?model={model}")
    tab.wait_for_selector("#method-groups input[name=method]", state="attached")
    tab.wait_for_function(f"document.getElementById('model-select').value === '{model}'")
    tab.wait_for_timeout(300)  # the model's details settle
    started = time.perf_counter()
    tab.set_input_files("#file-input", picture)
    tab.wait_for_selector("#top-k li.top")
    predicted = time.perf_counter()
    if click:
        tab.click("#explain-button")
    tab.wait_for_selector(FIRST_MAP)
    mapped = time.perf_counter()
    return (predicted - started) * 1000, (mapped - started) * 1000


HERO_CLIP = """() => {
    const panel = document.getElementById('result-panel').getBoundingClientRect();
    const maps = [...document.querySelectorAll('#figure-grid figure.map')];
    const top = maps[0].getBoundingClientRect().top;
    const row = maps.filter(m => Math.abs(m.getBoundingClientRect().top - top) < 2);
    const bottom = Math.max(...row.map(m => m.getBoundingClientRect().bottom));
    return {x: panel.left, y: panel.top + scrollY, width: panel.width,
            height: bottom - panel.top + 12};
}"""


def measure(
    base: str, model: str, label: str, repeats: int, click: bool, shots: Path, hero: Path | None
) -> list:
    visits = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for screen, (width, height) in SCREENS.items():
            viewport = {"width": width, "height": height}
            context = browser.new_context(viewport=viewport, base_url=base)
            tab = context.new_page()
            times = [visit(tab, model, sample_file(model, label), click) for _ in range(repeats)]
            tab.wait_for_selector("#figure-grid .map.pending", state="detached")
            tab.wait_for_timeout(300)
            page_height = tab.evaluate("document.documentElement.scrollHeight")
            top = tab.eval_on_selector(FIRST_MAP, "n => n.getBoundingClientRect().top + scrollY")
            shots.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(shots / f"{screen}_viewport.png"))
            tab.screenshot(path=str(shots / f"{screen}_full.png"), full_page=True)
            if hero and screen == "desktop":
                tab.screenshot(path=str(hero), clip=tab.evaluate(HERO_CLIP), full_page=True)
            visits.append(
                Visit(
                    screen,
                    page_height,
                    round(top),
                    statistics.median(t[0] for t in times),
                    statistics.median(t[1] for t in times),
                )
            )
            context.close()
        browser.close()
    return visits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="mnist_cnn")
    parser.add_argument("--label", default="3")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--click", action="store_true", help="press Explain after predicting")
    parser.add_argument("--shots", type=Path, default=PROJECT_ROOT / "test-artifacts" / "bench")
    parser.add_argument("--hero", type=Path, help="save the README picture here")
    args = parser.parse_args()
    env = {"LANTERN_DEFAULT_MODEL": args.model}
    with running_server(env) as base:
        visits = measure(
            base, args.model, args.label, args.repeats, args.click, args.shots, args.hero
        )
    print(f"{'screen':8} {'page px':>8} {'map top px':>10} {'predict ms':>10} {'map ms':>8} ratio")
    for v in visits:
        ratio = v.first_map_ms / v.prediction_ms
        print(
            f"{v.screen:8} {v.page_height:8d} {v.first_map_top:10d} {v.prediction_ms:10.0f}"
            f" {v.first_map_ms:8.0f} {ratio:5.1f}"
        )
    print(f"screenshots in {args.shots}")


if __name__ == "__main__":
    main()
