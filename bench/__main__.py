"""python -m bench: every benchmark of issue 16 in one run (a few minutes on 2 cores), then one
table of its figures with their goals, each a ratio measured side by side in this run.

- bench.explain and bench.occlusion (the gradient engine and occlusion against Captum) run as
  they are, in a subprocess; their ratios are read from what they print.
- bench.load (server CPU per request against the in-process work; memory), bench.kserve_
  baseline (against KServe's model server) and bench.explain_http (served explanations
  against Captum) run here, with shorter runs than their own defaults.

Needs torch and Captum (the dev extra). Prints the machine's load average at the start and
the end: figures taken on a shared machine say under what load they were measured.
Usage: python -m bench [--quick]"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable

from app.config import PROJECT_ROOT
from app.server.allocator import tune_allocator
from bench import explain_http, kserve_baseline, load

Row = tuple[str, str, str, str, bool]  # area, figure, value, goal, met


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def captured(module: str, *args: str) -> str:
    """What `python -m module args` prints (its output shown as it is, then returned)."""
    command = [sys.executable, "-m", module, *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=900)
    print(result.stdout)
    return result.stdout


def engine_rows(text: str) -> list[Row]:
    """Ratios printed by bench.explain: explain / forward per model, ours / Captum per method."""
    rows: list[Row] = []
    model = ""
    for line in text.splitlines():
        head = re.match(r"^(\S+): forward .* explain / forward = ([\d.]+)", line)
        if head:
            model = head.group(1)
            value = float(head.group(2))
            rows.append(
                (
                    "engine",
                    f"{model} explain run / forward run",
                    f"{value:.2f}",
                    "<= 2.5",
                    value <= 2.5,
                )
            )
        method = re.match(r"^\s+(\S+)\s+[\d.]+\s+[\d.]+\s+([\d.]+)$", line)
        if method and model:
            value = float(method.group(2))
            rows.append(
                (
                    "engine",
                    f"{model} {method.group(1)}, ours / Captum",
                    f"{value:.2f}",
                    "<= 0.5",
                    value <= 0.5,
                )
            )
    return rows


def occlusion_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    model = ""
    for line in text.splitlines():
        if re.match(r"^\S+: input", line):
            model = line.split(":")[0]
        found = re.search(r"ratio lantern / captum best \(wall.*\): ([\d.]+)", line)
        if found:
            value = float(found.group(1))
            rows.append(
                (
                    "occlusion",
                    f"{model}, ours / Captum's best",
                    f"{value:.2f}",
                    "<= 0.5",
                    value <= 0.5,
                )
            )
    return rows


def load_rows(report: load.LoadReport) -> list[Row]:
    rows: list[Row] = []
    for figures in report.models:
        goal = load.overhead_goal(figures)
        overhead = figures.overhead_ms
        value = (
            f"{overhead:+.3f} ms ({overhead / figures.work_ms:+.1%}; work {figures.work_ms:.2f} ms)"
        )
        if goal:
            rows.append(
                (
                    "serving",
                    f"{figures.model} HTTP overhead, server CPU per /predict",
                    value,
                    goal[0],
                    goal[1],
                )
            )
    memory = report.memory
    ratio = memory.peak_mib / memory.idle_mib
    idle_ok = memory.idle_mib < load.REPLICA_BUDGET_MIB
    rows.append(
        (
            "memory",
            "server RSS idle after start-up (shipped store)",
            f"{memory.idle_mib:.0f} MiB",
            "< 512 MiB (3 in 1.5 GiB)",
            idle_ok,
        )
    )
    rows.append(
        ("memory", "peak RSS under bench.load / idle", f"{ratio:.2f}", "<= 1.5", ratio <= 1.5)
    )
    return rows


def kserve_rows(
    rows: list[tuple[str, int, kserve_baseline.Figures, kserve_baseline.Figures]],
) -> list[Row]:
    out: list[Row] = []
    for path, concurrency, ours, theirs in rows:
        value = (
            f"{ours.rate / theirs.rate:.2f} x rate, {ours.p99 / theirs.p99:.2f} x p99, "
            f"{ours.cpu_ms / theirs.cpu_ms:.2f} x CPU"
        )
        met = ours.rate >= theirs.rate and ours.p99 <= theirs.p99 and ours.cpu_ms <= theirs.cpu_ms
        out.append(
            ("KServe", f"{path} c={concurrency}, Lantern / KServe", value, ">= 1, <= 1, <= 1", met)
        )
    return out


def http_rows(rows: list[explain_http.Row]) -> list[Row]:
    out: list[Row] = []
    for row in rows:
        rates = f"{row.per_second[1]:.1f}/s at c=1, {row.per_second[8]:.1f}/s at c=8"
        value = f"{row.ratio:.2f} ({row.ours_ms:.0f} / {row.captum_ms:.0f} ms; {rates})"
        out.append(
            (
                "served explain",
                f"{row.model} {row.method}, HTTP / Captum",
                value,
                "<= 0.6",
                row.ratio <= 0.6,
            )
        )
    return out


def print_table(rows: list[Row]) -> None:
    print("\n| area | figure | this run | goal | |\n|---|---|---|---|---|")
    for area, figure, value, goal, met in rows:
        print(f"| {area} | {figure} | {value} | {goal} | {'met' if met else '**missed**'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 2 minutes less)")
    args = parser.parse_args()
    repeats = "2" if args.quick else "3"
    print(load_average())
    steps: list[Callable[[], list[Row]]] = [
        lambda: engine_rows(captured("bench.explain", "--repeats", repeats)),
        lambda: occlusion_rows(captured("bench.occlusion", "--repeats", "1")),
        lambda: load_rows(_printed_load(3 if args.quick else 4)),
        lambda: kserve_rows(_printed_kserve(2.0 if args.quick else 3.0)),
        lambda: http_rows(_printed_http(int(repeats) + 2)),
    ]
    rows = [row for step in steps for row in step()]
    print(load_average())
    print_table(rows)


def _printed_load(rounds: int) -> load.LoadReport:
    tune_allocator()  # as the server does
    report = load.run(rounds=rounds, seconds=2.0)
    load.print_report(report)
    return report


def _printed_kserve(seconds: float) -> list:  # type: ignore[type-arg]
    rows = kserve_baseline.run(seconds, threads=1)
    kserve_baseline.print_rows(rows)
    return rows


def _printed_http(repeats: int) -> list[explain_http.Row]:
    rows = explain_http.run(repeats, threads=2)
    explain_http.print_rows(rows, threads=2)
    return rows


if __name__ == "__main__":
    main()
