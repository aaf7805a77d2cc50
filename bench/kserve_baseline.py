"""Lantern against KServe's Python model server (the named baseline), on the same `mnist_cnn`
ONNX, the same onnxruntime thread settings, the same loopback client (bench/load_client.py)
and a port of Lantern's digit preprocessing (bench/kserve_model.py; parity checked first:
identical top-3 on every digit sample).

Paths: images (Lantern's multipart /predict against KServe's V1 JSON base64; and Lantern's
own V1 :predict with that same JSON) and V2 FP32 tensors (the same JSON body to both). At
concurrency 1, 8 and 32, runs alternate Lantern, KServe, Lantern, KServe and each figure is
the better of its two runs: requests/s, p99, and the server's CPU per request (from /proc).
Goal: Lantern at least KServe's throughput, at most its p99 and CPU per request.
Usage: python -m bench.kserve_baseline [--seconds 4] [--threads 1]"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from app.store.manifest import DigitNormalisation
from bench.kserve_model import digit_tensor
from bench.load_client import closed_loop, http_request, multipart_predict_request, send_once
from bench.proc import cpu_seconds
from bench.server import free_port, server_process

SAMPLES = sorted((PROJECT_ROOT / "static" / "samples" / "mnist_cnn").glob("*.png"))
MODEL = "mnist_cnn"
CONCURRENCIES = (1, 8, 32)
MEAN, STD, DIGIT = 0.1307, 0.3081, DigitNormalisation(box=20, canvas=28)


@dataclass(frozen=True)
class Figures:
    rate: float
    p99: float
    cpu_ms: float

    def better(self, other: Figures) -> Figures:
        return Figures(
            max(self.rate, other.rate), min(self.p99, other.p99), min(self.cpu_ms, other.cpu_ms)
        )


def v1_body(blob: bytes) -> bytes:
    return json.dumps({"instances": [{"b64": base64.b64encode(blob).decode()}]}).encode()


def v2_body(blob: bytes) -> bytes:
    tensor = digit_tensor(blob, MEAN, STD, DIGIT)[None]  # (1, 1, 28, 28)
    inputs = [
        {"name": "input", "shape": list(tensor.shape), "datatype": "FP32",
         "data": [float(v) for v in tensor.ravel()]}
    ]  # fmt: skip
    return json.dumps({"inputs": inputs}).encode()


def requests_for(path: str, server: str, blobs: list[bytes]) -> list[bytes]:
    json_type = "application/json"
    if path == "v2":
        target = f"/v2/models/{MODEL}/infer"
        return [http_request("POST", target, v2_body(b), json_type) for b in blobs]
    if path == "image" and server == "lantern":
        return [multipart_predict_request(MODEL, b) for b in blobs]
    return [v1_request(blob) for blob in blobs]


def v1_request(blob: bytes) -> bytes:
    target = f"/v1/models/{MODEL}:predict"
    return http_request("POST", target, v1_body(blob), "application/json")


@contextmanager
def kserve_process(threads: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    command = [sys.executable, "-m", "bench.kserve_model", str(port), str(threads)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/v1/models/{MODEL}", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("KServe's model server did not start")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(30)


def top3_lantern(port: int, blob: bytes) -> list[str]:
    _, body = asyncio.run(send_once(port, multipart_predict_request(MODEL, blob)))
    return [p["label"] for p in json.loads(body)["predictions"][:3]]


def top3_kserve(port: int, blob: bytes) -> list[str]:
    _, body = asyncio.run(send_once(port, v1_request(blob)))
    return [p["label"] for p in json.loads(body)["predictions"][0][:3]]


def measure(
    port: int, pid: int, requests: list[bytes], concurrency: int, seconds: float
) -> Figures:
    before = cpu_seconds(pid)
    stats = asyncio.run(closed_loop(port, requests, concurrency, seconds))
    cpu = (cpu_seconds(pid) - before) / max(1, stats.answered) * 1000
    assert stats.failures == 0, f"errors: {dict(stats.statuses)}"
    return Figures(stats.rate, stats.p99, cpu)


def run(seconds: float, threads: int) -> list[tuple[str, int, Figures, Figures]]:
    blobs = [path.read_bytes() for path in SAMPLES]
    rows = []
    with tempfile.TemporaryDirectory() as root:
        store = Path(root) / "store"
        shutil.copytree(PROJECT_ROOT / "model_store" / MODEL, store / MODEL)
        env = {
            "LANTERN_MODEL_STORE": str(store),
            "LANTERN_DEFAULT_MODEL": MODEL,
            "LANTERN_ORT_INTRA_OP_THREADS": str(threads),
        }
        with server_process(env) as lantern, kserve_process(threads) as (kport, kpid):
            ours = [top3_lantern(lantern.port, blob) for blob in blobs]
            theirs = [top3_kserve(kport, blob) for blob in blobs]
            assert ours == theirs, f"preprocessing differs: {ours} != {theirs}"
            print(f"parity: identical top-3 on all {len(blobs)} digit samples")
            servers = {"lantern": (lantern.port, lantern.process.pid), "kserve": (kport, kpid)}
            for path in ("image", "image, JSON on both", "v2"):
                loads = {name: requests_for(path, name, blobs) for name in servers}
                for name, (port, _) in servers.items():  # warm-up
                    asyncio.run(closed_loop(port, loads[name], 4, 1.0, 200))
                for concurrency in CONCURRENCIES:
                    best: dict[str, Figures] = {}
                    for _ in range(2):  # A B A B
                        for name, (port, pid) in servers.items():
                            got = measure(port, pid, loads[name], concurrency, seconds)
                            best[name] = best[name].better(got) if name in best else got
                    rows.append((path, concurrency, best["lantern"], best["kserve"]))
    return rows


def print_rows(rows: list[tuple[str, int, Figures, Figures]]) -> None:
    print(
        f"{'path':<20} {'c':>3} {'Lantern/s':>10} {'KServe/s':>9} {'p99 L ms':>9} "
        f"{'p99 K ms':>9} {'CPU L ms':>9} {'CPU K ms':>9}  goal (>= rate, <= p99, <= CPU)"
    )
    for path, concurrency, ours, theirs in rows:
        met = ours.rate >= theirs.rate and ours.p99 <= theirs.p99 and ours.cpu_ms <= theirs.cpu_ms
        print(
            f"{path:<20} {concurrency:>3} {ours.rate:>10.0f} {theirs.rate:>9.0f} "
            f"{ours.p99:>9.1f} {theirs.p99:>9.1f} {ours.cpu_ms:>9.2f} {theirs.cpu_ms:>9.2f}  "
            + ("met" if met else "MISSED")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="per run (4 runs per cell)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    args = parser.parse_args()
    print_rows(run(min(args.seconds, 30.0), args.threads))


if __name__ == "__main__":
    main()
