"""Load benchmark: what a real `python -m app` spends per /predict request, against the same
work done in this process.

- **CPU per request**: the server's own CPU seconds (utime + stime of all its threads, from
  /proc/<pid>/stat) over a closed-loop run of N requests, divided by N; baseline: this
  process's CPU seconds per image for the same work (decode, preprocess, hints, onnxruntime,
  top-5), one image at a time, with the same onnxruntime thread settings. The difference is
  the HTTP overhead. Rounds alternate the two and each figure is the best round, so neither
  the client's CPU nor other processes' load decide it.
- **Latency at fixed offered rates**: an open-loop client starts requests on a schedule
  whatever the answers (latency counts from the scheduled start), p50 and p99.
- **Throughput** at concurrency 1, 8 and 32 (closed loop; this one does depend on the
  client sharing the machine), and an overload at twice the best of them: 503s expected, no
  other 5xx.
- **Memory**: the server's RSS idle after start-up with the shipped store (once the
  background self-checks have built every model's explain graphs), and its peak (VmHWM,
  reset then) over everything this benchmark sends it.

`mnist_cnn` and `efficientnet_lite0` are served from the shipped store; a ResNet-18 (random
weights, 224x224, bench/resnet18.py; needs torch) from a temporary one. Goals: overhead at
most 1 ms of CPU for mnist_cnn and 5% of the work for the ResNet; peak RSS at most 1.5x idle;
idle small enough for three replicas in 1.5 GiB. Loopback only, every run bounded.
Usage: python -m bench.load [--rounds 5] [--threads 1] [--seconds 4] [--no-resnet]
[--models mnist_cnn,resnet18_like]"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from app.config import PROJECT_ROOT
from app.imaging.decode import ImageLimits
from app.runtime.loader import LoadOptions, load_store
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory
from app.server.allocator import tune_allocator
from bench.load_client import Stats, closed_loop, open_loop, predict_request
from bench.predict import sample_pngs
from bench.proc import cpu_seconds, peak_rss_mib, reset_peak, rss_mib
from bench.resnet18 import NAME as RESNET
from bench.resnet18 import write_resnet18_entry
from bench.server import server_process, wait_settled

SHIPPED = PROJECT_ROOT / "model_store"
LITE0 = "efficientnet_lite0"
ROUND_CPU_SECONDS = 0.8  # the server CPU one round of requests aims at
RATES = {"mnist_cnn": (100.0, 300.0), LITE0: (10.0, 20.0), RESNET: (5.0, 15.0)}
CONCURRENCIES = (1, 8, 32)
REPLICA_BUDGET_MIB = 1536 / 3  # three replicas in 1.5 GiB


def sample_photos(count: int = 8, size: tuple[int, int] = (320, 240)) -> list[bytes]:
    """Random JPEGs (320x240 by default) for the photo models."""
    rng = np.random.default_rng(1)
    blobs = []
    for _ in range(count):
        buffer = io.BytesIO()
        pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
        blobs.append(buffer.getvalue())
    return blobs


@dataclass
class ModelFigures:
    """One model's figures, each the best of its rounds."""

    model: str
    work_ms: float  # in-process CPU per image
    server_ms: dict[int, float] = field(default_factory=dict)  # concurrency -> CPU/request
    throughput: dict[int, Stats] = field(default_factory=dict)
    at_rate: dict[float, tuple[Stats, float]] = field(default_factory=dict)  # rate -> (, CPU)
    overload: str = ""

    @property
    def overhead_ms(self) -> float:
        """Server CPU per request at concurrency 1 (no batching) less the in-process work."""
        return self.server_ms[1] - self.work_ms


@dataclass
class Memory:
    idle_mib: float = float("nan")
    peak_mib: float = float("nan")


def local_work(model: RunningModel, blobs: list[bytes]) -> Callable[[int], None]:
    """What the server does for one image, here: decode, preprocess and hints, one
    onnxruntime run, top-5."""

    def work(index: int) -> None:
        (image,) = model.prepare([blobs[index % len(blobs)]], ImageLimits())
        model.manifest.ranked(model.probabilities(image.array[None]), 5)

    return work


def in_process_ms(work: Callable[[int], None], count: int) -> float:
    """CPU milliseconds of this process per call of `work`, over `count` calls."""
    started = time.process_time()
    for index in range(count):
        work(index)
    return (time.process_time() - started) / count * 1000


def server_ms(
    port: int, pid: int, requests: list[bytes], concurrency: int, count: int
) -> tuple[float, Stats]:
    """The server's CPU milliseconds per answered request over `count` requests."""
    before = cpu_seconds(pid)
    stats = asyncio.run(closed_loop(port, requests, concurrency, 60.0, count))
    spent = cpu_seconds(pid) - before
    return spent / max(1, stats.answered) * 1000, stats


def measure_model(
    port: int, pid: int, model: RunningModel, blobs: list[bytes], rounds: int, seconds: float
) -> ModelFigures:
    requests = [predict_request(model.name, blob) for blob in blobs]
    work = local_work(model, blobs)
    for index in range(3):  # warm both sides
        work(index)
    asyncio.run(closed_loop(port, requests, 2, 1.0, 20))
    estimate = in_process_ms(work, 5)
    count = max(30, int(ROUND_CPU_SECONDS * 1000 / max(estimate, 0.05)))
    figures = ModelFigures(model.name, float("inf"))
    for _ in range(rounds):  # alternating, so that a busy moment hits both sides alike
        figures.work_ms = min(figures.work_ms, in_process_ms(work, count))
        for concurrency in (1, 8):
            spent, _ = server_ms(port, pid, requests, concurrency, count)
            figures.server_ms[concurrency] = min(figures.server_ms.get(concurrency, 1e9), spent)
    for concurrency in CONCURRENCIES:
        figures.throughput[concurrency] = asyncio.run(
            closed_loop(port, requests, concurrency, seconds)
        )
    for rate in RATES[model.name]:
        before = cpu_seconds(pid)
        stats = asyncio.run(open_loop(port, requests, rate, seconds))
        cpu = (cpu_seconds(pid) - before) / max(1, stats.answered) * 1000
        figures.at_rate[rate] = (stats, cpu)
    best = max(stats.rate for stats in figures.throughput.values())
    figures.overload = overload(port, requests, 2 * best, seconds)
    return figures


def overload(port: int, requests: list[bytes], rate: float, seconds: float) -> str:
    stats = asyncio.run(open_loop(port, requests, rate, seconds))
    statuses = ", ".join(f"{code or 'unsent'}: {n}" for code, n in sorted(stats.statuses.items()))
    other_5xx = sum(n for code, n in stats.statuses.items() if code >= 500 and code != 503)
    return (
        f"overload at {rate:.0f}/s offered: {statuses}; other 5xx {other_5xx}; "
        f"admitted {stats.rate:.1f}/s, p99 {stats.p99:.1f} ms"
    )


def serve_and_measure(
    store: Path, workloads: dict[str, list[bytes]], threads: int, rounds: int, seconds: float
) -> tuple[list[ModelFigures], Memory]:
    """Start a server on `store`, measure each model of `workloads` against this process."""
    env = {"LANTERN_MODEL_STORE": str(store), "LANTERN_ORT_INTRA_OP_THREADS": str(threads)}
    local = load_store(store, LoadOptions(SessionFactory(threads)))
    memory = Memory()
    with server_process(env, timeout=180) as server:
        pid = server.process.pid
        wait_settled(server)  # the background self-checks have built the explain graphs
        time.sleep(1.0)
        memory.idle_mib = rss_mib(pid)
        reset_peak(pid)
        figures = [
            measure_model(server.port, pid, local.get(name), blobs, rounds, seconds)
            for name, blobs in workloads.items()
        ]
        memory.peak_mib = peak_rss_mib(pid)
    return figures, memory


@dataclass
class LoadReport:
    models: list[ModelFigures]
    memory: Memory  # of the server on the shipped store
    threads: int


def run(
    rounds: int = 5,
    threads: int = 1,
    seconds: float = 4.0,
    resnet: bool = True,
    models: frozenset[str] | None = None,
) -> LoadReport:
    """Measure every model, or those named in `models` (mnist_cnn, efficientnet_lite0,
    resnet18_like); the memory figures need the whole shipped store measured."""
    chosen = models or frozenset({"mnist_cnn", LITE0, RESNET})
    shipped = {"mnist_cnn": sample_pngs(), LITE0: sample_photos()}
    shipped = {name: blobs for name, blobs in shipped.items() if name in chosen}
    figures, memory = serve_and_measure(SHIPPED, shipped, threads, rounds, seconds)
    if resnet and RESNET in chosen:
        with tempfile.TemporaryDirectory() as root:
            store = Path(root) / "store"
            write_resnet18_entry(store)
            more, _ = serve_and_measure(store, {RESNET: sample_photos()}, threads, rounds, seconds)
            figures += more
    return LoadReport(figures, memory, threads)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def overhead_goal(figures: ModelFigures) -> tuple[str, bool] | None:
    if figures.model == "mnist_cnn":
        return "<= 1 ms", figures.overhead_ms <= 1.0
    if figures.model == RESNET:
        return "<= 5% of the work", figures.overhead_ms <= 0.05 * figures.work_ms
    return None


def print_report(report: LoadReport) -> None:
    print(f"onnxruntime intra-op threads {report.threads} (server and in-process alike)")
    for figures in report.models:
        print_model(figures)
    memory = report.memory
    ratio = memory.peak_mib / memory.idle_mib
    print(
        f"\nserver RSS, shipped store: idle after start-up {memory.idle_mib:.0f} MiB "
        f"(goal < {REPLICA_BUDGET_MIB:.0f}: {verdict(memory.idle_mib < REPLICA_BUDGET_MIB)}), "
        f"peak under this load {memory.peak_mib:.0f} MiB = {ratio:.2f}x idle "
        f"(goal <= 1.5x: {verdict(ratio <= 1.5)})"
    )


def print_model(figures: ModelFigures) -> None:
    work, overhead = figures.work_ms, figures.overhead_ms
    print(f"\n{figures.model}: in-process work {work:.3f} ms CPU per image (baseline)")
    goal = overhead_goal(figures)
    suffix = f"  goal {goal[0]}: {verdict(goal[1])}" if goal else ""
    print(
        f"  server CPU per request c=1 {figures.server_ms[1]:.3f} ms, c=8 "
        f"{figures.server_ms[8]:.3f} ms; HTTP overhead at c=1 {overhead:+.3f} ms "
        f"({overhead / work:+.1%} of the work){suffix}"
    )
    for concurrency, stats in figures.throughput.items():
        print(
            f"  c={concurrency:<3} {stats.rate:>8.1f}/s  p50 {stats.p50:>7.1f} ms  "
            f"p99 {stats.p99:>7.1f} ms  errors {stats.failures}"
        )
    for rate, (stats, cpu) in figures.at_rate.items():
        print(
            f"  offered {rate:>6.0f}/s: p50 {stats.p50:>7.1f} ms  p99 {stats.p99:>7.1f} ms  "
            f"answered {stats.rate:.1f}/s  server CPU {cpu:.3f} ms/request"
        )
    print(f"  {figures.overload}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="alternating CPU rounds, best kept")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--seconds", type=float, default=4.0, help="per latency/throughput run")
    parser.add_argument("--no-resnet", action="store_true", help="skip the ResNet (no torch)")
    parser.add_argument(
        "--models", default="", help="comma-separated models to measure (default: all three)"
    )
    args = parser.parse_args()
    tune_allocator()  # the server's malloc settings here too: the same work, the same way
    models = frozenset(filter(None, args.models.split(","))) or None
    rounds, seconds = min(args.rounds, 20), min(args.seconds, 30.0)
    report = run(rounds, args.threads, seconds, not args.no_resnet, models)
    print_report(report)


if __name__ == "__main__":
    main()
