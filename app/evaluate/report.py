"""The evaluation as one self-contained HTML file: the result's JSON, the styles, and the same
table and chart scripts the model page runs (static/js/evaluation_*.js), inlined, so the file
opens anywhere with nothing to fetch; and its table as Markdown, for a README."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from app.evaluate.metrics import MetricInfo
from app.evaluate.result import EvaluationResult, MethodScores
from app.evaluate.statistics import Interval

SCRIPTS = ("evaluation_dom.js", "evaluation_table.js", "evaluation_charts.js")
STYLES = ("evaluation.css",)
IMPORT = re.compile(r"^import .*?;\n", re.MULTILINE | re.DOTALL)
EXPORT = re.compile(r"^export ", re.MULTILINE)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; color: #1d2330; margin: 1.5rem; }}
.link-button {{ border: none; background: none; padding: 0; cursor: pointer; color: #1f5fbf; }}
.hint {{ color: #5a6273; }}
{styles}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="hint" id="summary"></p>
<div id="table"></div>
<h2>Curves</h2>
<div id="curves" class="evaluation-charts"></div>
<h2>Each metric beside its random baseline</h2>
<p class="hint">Bars: mean over the images, with its 95% interval; dashed mark: the method's
random map at its resolution.</p>
<div id="bars" class="evaluation-charts"></div>
<script type="application/json" id="result">{data}</script>
<script type="module">
{scripts}
const result = JSON.parse(document.getElementById("result").textContent);
document.getElementById("summary").textContent = evaluationSummary(result);
renderEvaluationTable(document.getElementById("table"), result);
renderEvaluationCurves(document.getElementById("curves"), result);
renderEvaluationBars(document.getElementById("bars"), result);
</script>
</body>
</html>
"""


def inline_module(source: str) -> str:
    """A module's text to run inline beside the others: no imports, no exports."""
    return EXPORT.sub("", IMPORT.sub("", source))


def report_html(result: EvaluationResult, static: Path) -> str:
    """The report page of `result`, with the scripts and styles of `static` inlined."""
    scripts = "\n".join(inline_module((static / "js" / name).read_text()) for name in SCRIPTS)
    styles = "\n".join((static / "css" / name).read_text() for name in STYLES)
    data = json.dumps(result.model_dump(mode="json")).replace("</", "<\\/")
    title = html.escape(f"Evaluation of {result.model} (version {result.version})")
    return PAGE.format(title=title, styles=styles, data=data, scripts=scripts)


def markdown_table(result: EvaluationResult) -> str:
    """The ranked table: a row per method, then the baselines; mean [95% interval] per
    metric, with ▲ / ▼ where the paired difference from the method's matched random map is
    better / worse beyond its interval."""
    metrics = result.metrics
    arrows = {"lower": "↓", "higher": "↑"}
    head = ["method", "random map", *(f"{m.title} {arrows[m.better]}" for m in metrics)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in result.methods:
        cells = [_cell(row.metrics.get(m.key), _mark(row, m)) for m in metrics]
        lines.append("| " + " | ".join([row.method, row.random, *cells]) + " |")
    for baseline in result.baselines:
        cells = [_cell(baseline.metrics.get(m.key), "") for m in metrics]
        lines.append("| " + " | ".join([f"*{baseline.name}*", "baseline", *cells]) + " |")
    return "\n".join(lines) + "\n"


def _cell(interval: Interval | None, mark: str) -> str:
    if interval is None or interval.mean is None:
        return ""
    if interval.low is None or interval.high is None:
        return f"{interval.mean:.3f}{mark}"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]{mark}"


def _mark(row: MethodScores, metric: MetricInfo) -> str:
    difference = row.versus_random.get(metric.key)
    if difference is None or difference.low is None or difference.high is None:
        return ""
    lower = metric.better == "lower"
    if (difference.high < 0) if lower else (difference.low > 0):
        return " ▲"
    if (difference.low > 0) if lower else (difference.high < 0):
        return " ▼"
    return ""


def write_report(result: EvaluationResult, out: Path, static: Path) -> tuple[Path, Path]:
    """`out` (JSON), and beside it the HTML report and the Markdown table (same name, .html
    and .md)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.model_dump_json(indent=1))
    page = out.with_suffix(".html")
    page.write_text(report_html(result, static))
    out.with_suffix(".md").write_text(markdown_table(result))
    return out, page
