"""The report: the page's scripts inlined without imports or exports, the result embedded as
JSON that cannot close its script, and the Markdown table with its marks."""

from __future__ import annotations

from functools import cache

from app.config import PROJECT_ROOT
from app.evaluate.evaluation import run_evaluation
from app.evaluate.job import plan
from app.evaluate.params import EvaluationParams
from app.evaluate.report import inline_module, markdown_table, report_html
from app.evaluate.result import EvaluationResult
from app.evaluate.statistics import Interval
from app.imaging.decode import ImageLimits
from tests.evaluate.conftest import Recorder, noise_images, quick, tiny_rgb


@cache
def result() -> EvaluationResult:
    params = quick(
        noise_images(2), methods=["saliency", "grad_cam"], metrics=["deletion_insertion"]
    )
    spec = plan(tiny_rgb(), params, ImageLimits()).spec
    planned = EvaluationParams.model_validate(spec.parameters)
    return run_evaluation(tiny_rgb(), planned, Recorder().progress())


def test_an_inlined_module_has_no_imports_or_exports_left():
    source = 'import { a,\n  b } from "./x.js";\nexport function f() {}\nexport const g = 1;\n'
    assert inline_module(source) == "function f() {}\nconst g = 1;\n"


def test_the_page_embeds_the_result_so_that_no_string_closes_its_script():
    shown = result().model_copy(update={"model": "</script><b>tiny"})
    page = report_html(shown, PROJECT_ROOT / "static")
    assert "<\\/script><b>tiny" in page and page.count("</script>") == 2
    assert "Evaluation of &lt;/script&gt;&lt;b&gt;tiny" in page


def test_the_markdown_table_has_a_row_per_method_and_baseline_with_its_marks():
    found = result()
    table = markdown_table(found).splitlines()
    assert table[0] == "| method | random map | Deletion AUC ↓ | Insertion AUC ↑ |"
    assert len(table) == 2 + len(found.methods) + len(found.baselines)
    assert table[2].startswith(f"| {found.methods[0].method} | {found.methods[0].random} | ")
    better = Interval(mean=-0.2, low=-0.3, high=-0.1, n=2, values=[-0.3, -0.1])
    row = found.methods[0].model_copy(update={"versus_random": {"deletion_auc": better}})
    marked = markdown_table(found.model_copy(update={"methods": [row]})).splitlines()[2]
    assert marked.split(" | ")[2].endswith(" ▲")
