"""What LANTERN_EXPLAIN_GRAPHS costs: `python -m app` on the shipped store with explain graphs
built and self-checked by a thread once the server is ready (background, the default), before
it is ready (eager), or by the first gradient request (lazy), alternated round by round on the
same machine.

Per mode: seconds from launch until /health/ready answers, the peak resident memory until
then, the resident memory once ready (idle), the first /explain/saliency on the photo model
(it waits for that model's build and check when lazy, or for what remains of the background
check) and a second one.

    python -m bench.startup [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import httpx

from app.config import PROJECT_ROOT
from bench.proc import peak_rss_mib, rss_mib
from bench.server import server_process

PHOTO = PROJECT_ROOT / "static" / "samples" / "efficientnet_lite0" / "chelsea.jpg"
MODES = ("background", "eager", "lazy")
ENV = {"LANTERN_ORT_INTRA_OP_THREADS": "1", "LANTERN_JOB_RUNNERS": "0"}


@dataclass(frozen=True)
class Round:
    ready_seconds: float
    peak_start_mib: float  # the highest resident memory until ready
    idle_mib: float
    first_explain_ms: float
    second_explain_ms: float
    after_mib: float


def _explain_ms(client: httpx.Client, photo: bytes) -> float:
    started = time.perf_counter()
    response = client.post(
        "/explain/saliency", content=photo, headers={"content-type": "image/jpeg"}
    )
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def one_round(mode: str, photo: bytes) -> Round:
    started = time.perf_counter()
    with server_process({**ENV, "LANTERN_EXPLAIN_GRAPHS": mode}, timeout=300) as server:
        ready = time.perf_counter() - started
        time.sleep(1.0)  # let start-up's last allocations settle
        pid = server.process.pid
        peak, idle = peak_rss_mib(pid), rss_mib(pid)
        with httpx.Client(base_url=server.base, timeout=300) as client:
            first = _explain_ms(client, photo)
            second = _explain_ms(client, photo)
        return Round(ready, peak, idle, first, second, rss_mib(pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    photo = PHOTO.read_bytes()
    results: dict[str, list[Round]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            results[mode].append(one_round(mode, photo))
    print("| graphs | ready after | peak RSS until | idle RSS | 1st saliency | 2nd | RSS after |")
    print("|---|---|---|---|---|---|---|")
    for mode, runs in results.items():
        figures = [_median(runs, name) for name in Round.__dataclass_fields__]
        ready, peak, idle, first, second, after = figures
        print(
            f"| {mode} | {ready:.2f} s | {peak:.0f} MiB | {idle:.0f} MiB | {first:.0f} ms "
            f"| {second:.0f} ms | {after:.0f} MiB |"
        )
    print(f"(medians of {rounds} rounds, modes alternated; one onnxruntime thread)")


def _median(runs: list[Round], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


if __name__ == "__main__":
    main()
