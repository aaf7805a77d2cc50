"""Prediction throughput: in-process (decode + preprocess + ORT) against HTTP /predict through a
real uvicorn on 127.0.0.1 at concurrency 1 and 8. Baseline: the in-process figure of the same
run. Usage: python -m bench.predict [--seconds 5]"""

from __future__ import annotations

import argparse
import io
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from PIL import Image

from app.config import PROJECT_ROOT
from app.imaging.decode import ImageLimits
from app.runtime.loader import load_store
from bench.server import running_server

MODELS = ("mnist_cnn", "lenet5")


def sample_pngs(count: int = 64) -> list[bytes]:
    """Digit-like PNGs: random strokes on black, 28x28."""
    rng = np.random.default_rng(0)
    blobs = []
    for _ in range(count):
        pixels = np.zeros((28, 28), np.uint8)
        row, col = rng.integers(4, 20, 2)
        pixels[row : row + 8, col : col + 3] = 255
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "PNG")
        blobs.append(buffer.getvalue())
    return blobs


def in_process_rate(name: str, blobs: list[bytes], seconds: float) -> float:
    model = load_store(PROJECT_ROOT / "model_store").get(name)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        blob = blobs[done % len(blobs)]
        model.manifest.ranked(model.probabilities(model.preprocess([blob], ImageLimits())), 5)
        done += 1
    return done / (time.perf_counter() - started)


def http_rate(base: str, name: str, blobs: list[bytes], concurrency: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds

    def worker(offset: int) -> int:
        done = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.perf_counter() < deadline:
                blob = blobs[(offset + done) % len(blobs)]
                response = client.post(
                    f"/predict?model={name}", content=blob, headers={"content-type": "image/png"}
                )
                response.raise_for_status()
                done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(worker, range(concurrency)))
    return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    args = parser.parse_args()
    blobs = sample_pngs()
    print(
        f"{'model':<10} {'in-process/s':>13} {'HTTP c=1/s':>11} {'HTTP c=8/s':>11} "
        f"{'c1/in':>6} {'c8/in':>6}"
    )
    with running_server() as base:
        for name in MODELS:
            local = in_process_rate(name, blobs, args.seconds)
            one = http_rate(base, name, blobs, 1, args.seconds)
            eight = http_rate(base, name, blobs, 8, args.seconds)
            print(
                f"{name:<10} {local:>13.0f} {one:>11.0f} {eight:>11.0f} "
                f"{one / local:>6.2f} {eight / local:>6.2f}"
            )


if __name__ == "__main__":
    main()
