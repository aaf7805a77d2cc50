"""Load benchmark: HTTP /predict throughput and p50/p99 latency at concurrency 1, 8 and 32 for
`mnist_cnn` and a ResNet-18-sized model, against in-process throughput (decode + preprocess +
onnxruntime, one image at a time) measured in the same run; then an open-loop overload at
about twice the measured capacity: statuses (503s expected, no other 5xx), the p99 of the
admitted requests and the server's peak RSS.

Traffic goes to 127.0.0.1 only and every run is bounded in time. Needs torch for the ResNet.
Usage: python -m bench.load [--seconds 5] [--overload-seconds 5]"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from app.config import PROJECT_ROOT
from app.imaging.decode import ImageLimits
from app.runtime.loader import load_store
from bench.load_client import Stats, closed_loop, open_loop
from bench.predict import sample_pngs
from bench.resnet18 import NAME as RESNET
from bench.resnet18 import write_resnet18_entry
from bench.server import server_process

CONCURRENCIES = (1, 8, 32)
GOALS = {("mnist_cnn", 8): 0.6, (RESNET, 8): 0.9}


def sample_photos(count: int = 8) -> list[bytes]:
    """Random 320x240 JPEGs for the ResNet."""
    rng = np.random.default_rng(1)
    blobs = []
    for _ in range(count):
        buffer = io.BytesIO()
        pixels = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
        blobs.append(buffer.getvalue())
    return blobs


def build_store(root: Path) -> Path:
    store = root / "store"
    shutil.copytree(PROJECT_ROOT / "model_store" / "mnist_cnn", store / "mnist_cnn")
    write_resnet18_entry(store)
    return store


def in_process_rate(store: Path, name: str, blobs: list[bytes], seconds: float) -> float:
    """Images/s of decode + preprocess + onnxruntime + top-k, one image at a time, here."""
    model = load_store(store).get(name)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        batch = model.preprocess([blobs[done % len(blobs)]], ImageLimits())
        model.manifest.ranked(model.probabilities(batch), 5)
        done += 1
    return done / (time.perf_counter() - started)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def overload(
    port: int, pid: int, model: str, blobs: list[bytes], rate: float, seconds: float
) -> tuple[Stats, float]:
    """Open-loop traffic at `rate` requests/s, sampling the server's RSS every 0.1 s."""
    peak = rss_mib(pid)
    load = asyncio.create_task(open_loop(port, model, blobs, rate, seconds))
    while not load.done():
        peak = max(peak, rss_mib(pid))
        await asyncio.sleep(0.1)
    return load.result(), peak


def report_row(model: str, concurrency: int, stats: Stats, local: float) -> str:
    ratio = stats.rate / local
    goal = GOALS.get((model, concurrency))
    verdict = (
        "" if goal is None else (f" goal >= {goal}: " + ("met" if ratio >= goal else "MISSED"))
    )
    return (
        f"{model:<14} c={concurrency:<3} {stats.rate:>8.1f}/s  p50 {stats.p50:>7.1f} ms"
        f"  p99 {stats.p99:>7.1f} ms  errors {stats.failures:>3}  HTTP/in-process {ratio:>5.2f}"
        f"{verdict}"
    )


def run(seconds: float, overload_seconds: float) -> None:
    workloads = {"mnist_cnn": sample_pngs(), RESNET: sample_photos()}
    with tempfile.TemporaryDirectory() as root:
        store = build_store(Path(root))
        with server_process({"LANTERN_MODEL_STORE": str(store)}, timeout=180) as server:
            pid = server.process.pid
            idle = rss_mib(pid)
            for model, blobs in workloads.items():
                measure(server.port, pid, store, model, blobs, seconds, overload_seconds)
            print(f"server RSS when idle after start-up: {idle:.0f} MiB")


def measure(
    port: int,
    pid: int,
    store: Path,
    model: str,
    blobs: list[bytes],
    seconds: float,
    overload_seconds: float,
) -> None:
    first = in_process_rate(store, model, blobs, seconds)
    rows = [(c, asyncio.run(closed_loop(port, model, blobs, c, seconds))) for c in CONCURRENCIES]
    last = in_process_rate(store, model, blobs, seconds)  # the machine may be shared: average
    local = (first + last) / 2
    print(
        f"{model:<14} in-process {local:>8.1f}/s (baseline; {first:.1f} before, {last:.1f} after)"
    )
    for concurrency, stats in rows:
        print(report_row(model, concurrency, stats, local))
    best = max(stats.rate for _, stats in rows)
    before = rss_mib(pid)
    stats, peak = asyncio.run(overload(port, pid, model, blobs, 2 * best, overload_seconds))
    statuses = ", ".join(f"{code or 'unsent'}: {n}" for code, n in sorted(stats.statuses.items()))
    other_5xx = sum(n for code, n in stats.statuses.items() if code >= 500 and code != 503)
    print(
        f"{model:<14} overload at {2 * best:.0f}/s offered: {statuses}; other 5xx {other_5xx};"
        f" admitted {stats.rate:.1f}/s p99 {stats.p99:.1f} ms;"
        f" RSS {before:.0f} -> peak {peak:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per closed-loop measurement")
    parser.add_argument("--overload-seconds", type=float, default=5.0)
    args = parser.parse_args()
    run(min(args.seconds, 60), min(args.overload_seconds, 60))


if __name__ == "__main__":
    main()
