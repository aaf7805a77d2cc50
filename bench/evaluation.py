"""The evaluation job on a real server, for the docs' figures: POST
/models/{name}/evaluate?source=samples, polled to the end; prints the job's wall time (submit to
done, beside the evaluation's own timing) and the ranked table, and writes
docs/evaluation/<model>.json, .html, .md and a picture of the report (.png).

Needs Debian's /usr/bin/chromium and the playwright package (the dev extra) for the picture.
Usage: python -m bench.evaluation cifar_resnet [--methods a,b] [--out docs/evaluation]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

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


def picture(page_path: Path, out: Path) -> None:
    """The report page as a PNG, 1280 px wide."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        tab.goto(page_path.as_uri())
        tab.wait_for_selector(".evaluation-table")
        tab.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> None:
    found = argparse.ArgumentParser(description=__doc__)
    found.add_argument("model")
    found.add_argument("--methods", default="", help="comma-separated (default: every one)")
    found.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "evaluation")
    arguments = found.parse_args()
    methods = [key for key in arguments.methods.split(",") if key]
    env = {"LANTERN_MAX_EVALUATION_PASSES": str(10**7)}
    with running_server(env, timeout=120) as base:
        result, wall = run_job(base, arguments.model, methods)
    static = PROJECT_ROOT / "static"
    out, page = write_report(result, arguments.out / f"{arguments.model}.json", static)
    picture(page, out.with_suffix(".png"))
    timing = result.timing
    print(
        f"{arguments.model}: job wall time {wall:.1f} s (the evaluation's own: "
        f"{timing.seconds:.1f} s, of which randomisation {timing.randomisation_seconds:.1f} s)"
    )
    print(markdown_table(result))


if __name__ == "__main__":
    main()
