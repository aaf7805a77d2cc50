"""The evaluation job on a real server, for the docs' figures: POST
/models/{name}/evaluate?source=samples, polled to the end; prints the job's wall time (submit to
done, beside the evaluation's own timing) and the ranked table, and writes
docs/evaluation/<model>.json, .html, .md and a picture of the report (.png).

With --report, a result the command line wrote (python -m app.evaluate ... --out x.json) is
drawn instead, without a server: its report, table and picture are written to --out.

Needs Debian's /usr/bin/chromium and the playwright package (the dev extra) for the picture.
Usage: python -m bench.evaluation cifar_resnet [--methods a,b] [--out docs/evaluation]
       python -m bench.evaluation cifar_resnet --report x.json [--out docs/evaluation]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx
from playwright.sync_api import FloatRect, Page, ViewportSize, sync_playwright

from app.config import PROJECT_ROOT
from app.evaluate.report import markdown_table, write_report
from app.evaluate.result import EvaluationResult
from bench.server import running_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
POLL_SECONDS = 1.0


def run_job(base: str, model: str, methods: list[str]) -> tuple[EvaluationResult, float]:
    """The job's result and its wall time, submit to done."""
    query = [("source", "samples"), *(("method", key) for key in methods)]
    with httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        job = client.post(f"/models/{model}/evaluate", params=query)
        job.raise_for_status()
        url = job.json()["status_url"]
        while (status := client.get(url).json())["status"] in ("queued", "running"):
            print(f"\r{status['step']}/{status['steps']}", end="", flush=True)
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
    print()
    if status["status"] != "done":
        raise RuntimeError(f"the job ended {status['status']}: {status['error']}")
    return EvaluationResult.model_validate(status["result"]), wall


# The README's picture: the deletion and insertion bars (each method beside its random map)
CHART = ('#bars svg[data-metric="deletion_auc"]', '#bars svg[data-metric="insertion_auc"]')


def picture(page_path: Path, out: Path, chart: Path | None = None) -> None:
    """The report page as a PNG, 1280 px wide; and, to `chart`, the deletion and insertion
    bar charts side by side, at twice the resolution."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for scale, path in ((1, out), (2, chart)):
            if path is None:
                continue
            viewport: ViewportSize = {"width": 1280, "height": 800}
            tab = browser.new_page(viewport=viewport, device_scale_factor=scale)
            tab.goto(page_path.resolve().as_uri())
            tab.wait_for_selector(".evaluation-table")
            clip = None if path == out else union_box(tab, CHART)
            tab.screenshot(path=str(path), full_page=True, clip=clip)
        browser.close()


def union_box(tab: Page, selectors: tuple[str, ...]) -> FloatRect:
    """The smallest rectangle around the elements `selectors` find."""
    boxes = [box for selector in selectors if (box := tab.locator(selector).bounding_box())]
    left, top = min(b["x"] for b in boxes), min(b["y"] for b in boxes)
    right = max(b["x"] + b["width"] for b in boxes)
    bottom = max(b["y"] + b["height"] for b in boxes)
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def main() -> None:
    found = argparse.ArgumentParser(description=__doc__)
    found.add_argument("model")
    found.add_argument("--methods", default="", help="comma-separated (default: every one)")
    found.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "evaluation")
    found.add_argument("--report", type=Path, help="draw this result instead of running a job")
    arguments = found.parse_args()
    wall: float | None = None
    if arguments.report is not None:
        result = EvaluationResult.model_validate_json(arguments.report.read_text())
    else:
        methods = [key for key in arguments.methods.split(",") if key]
        env = {"LANTERN_MAX_EVALUATION_PASSES": str(10**7)}
        with running_server(env, timeout=120) as base:
            result, wall = run_job(base, arguments.model, methods)
    static = PROJECT_ROOT / "static"
    out, page = write_report(result, arguments.out / f"{arguments.model}.json", static)
    picture(page, out.with_suffix(".png"), out.parent / f"{arguments.model}_chart.png")
    timing = result.timing
    job = f"job wall time {wall:.1f} s, " if wall is not None else ""
    print(
        f"{arguments.model}: {job}the evaluation's own time {timing.seconds:.1f} s, of which "
        f"randomisation {timing.randomisation_seconds:.1f} s"
    )
    print(markdown_table(result))


if __name__ == "__main__":
    main()
