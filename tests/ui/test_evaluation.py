"""The model page's "Evaluate methods" panel (live progress, the ranked table, the charts),
and the command line's HTML report opened on its own."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from app.config import PROJECT_ROOT
from app.evaluate.evaluation import run_evaluation
from app.evaluate.job import plan
from app.evaluate.params import EvaluationParams
from app.evaluate.report import write_report
from app.imaging.decode import ImageLimits
from tests.evaluate.conftest import Recorder, noise_images, quick, tiny_rgb
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_panel_evaluates_the_ticked_methods_with_live_progress(page: Page, model_name: str):
    page.goto(f"/ui/models/{model_name}")
    page.wait_for_selector("#eval-methods input[name=eval-method]")
    page.eval_on_selector_all(
        "#eval-methods input", "boxes => boxes.forEach(b => { b.checked = false; })"
    )
    page.check("#eval-method-saliency")
    page.check("#eval-method-grad_cam")
    assert page.is_checked("#eval-source-samples")
    page.click("#eval-start")
    page.wait_for_function("document.getElementById('eval-status').textContent.startsWith('step')")
    assert page.is_enabled("#eval-cancel")
    page.wait_for_selector("#eval-results:not([hidden])", timeout=60_000)
    rows = page.eval_on_selector_all(
        ".evaluation-table tbody:first-of-type tr", "rows => rows.map(r => r.dataset.method)"
    )
    assert sorted(rows) == ["grad_cam", "saliency"]
    assert (
        page.locator(".evaluation-table tbody.baselines tr").count() == 3
    )  # pixels, 24x24, centre
    for curve in ("deletion", "insertion", "road_morf", "road_lerf"):
        names = page.eval_on_selector_all(
            f"svg[data-curve={curve}] path[data-name]", "paths => paths.map(p => p.dataset.name)"
        )
        assert {"saliency", "grad_cam", "centre"} <= set(names), curve
    assert page.locator("#eval-bars svg[data-metric]").count() == 7
    assert page.locator("#eval-bars svg[data-metric=deletion_auc] .random-mark").count() == 2
    progress = page.eval_on_selector("#eval-progress", "bar => [bar.value, bar.max]")
    assert progress[0] == progress[1] and page.inner_text("#eval-status") == "done"
    assert not page.is_visible("#eval-section .note")
    screenshot(page, "evaluation_panel")


def test_the_panel_cancels_a_running_evaluation(page: Page, model_name: str):
    page.goto(f"/ui/models/{model_name}")
    page.wait_for_selector("#eval-method-rise")
    page.check("#eval-method-rise")
    page.click("#eval-start")
    page.wait_for_function("document.getElementById('eval-status').textContent.startsWith('step')")
    page.click("#eval-cancel")
    page.wait_for_function("document.getElementById('eval-status').textContent === 'cancelled'")
    assert page.is_enabled("#eval-start") and page.is_hidden("#eval-results")


def test_the_command_lines_report_draws_the_table_and_charts_by_itself(page: Page, tmp_path):
    params = quick(noise_images(2), methods=["saliency", "grad_cam"])
    spec = plan(tiny_rgb(), params, ImageLimits()).spec
    result = run_evaluation(
        tiny_rgb(), EvaluationParams.model_validate(spec.parameters), Recorder().progress()
    )
    _, html = write_report(result, tmp_path / "report.json", PROJECT_ROOT / "static")
    page.goto(html.as_uri())
    page.wait_for_selector(".evaluation-table")
    assert page.locator(".evaluation-table tbody:first-of-type tr").count() == 2
    assert page.locator("#curves svg[data-curve]").count() == 4
    page.click(".evaluation-table th[data-metric=deletion_auc] button")
    assert (
        page.get_attribute(".evaluation-table th[data-metric=deletion_auc]", "aria-sort")
        == "ascending"
    )
    screenshot(page, "evaluation_report")
