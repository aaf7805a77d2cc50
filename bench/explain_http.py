"""Explanations served end to end: HTTP /explain/<method> on a real `python -m app` (upload,
decode, preprocessing, the explanation, rendering, JSON) against Captum on the same torch
weights, input and thread count (its attribution alone, on the preprocessed tensor), with the
requests and the Captum calls alternated; then explanations per second at concurrency 1 and
8 (concurrent requests with the same parameters share their onnxruntime runs).

Models: a ResNet-18 (random weights, bench/resnet18.py) and the shipped EfficientNet-Lite0
with its package's weights, both at 224x224, on one photo, explaining its top class (sent as
`target`, as Captum is given it). Goal: ours / Captum at most 0.6 for saliency and Grad-CAM.
Needs torch and Captum. Usage: python -m bench.explain_http [--repeats 7] [--threads 2]"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from captum.attr import LayerAttribution, LayerGradCam
from captum.attr import Saliency as CaptumSaliency
from torch import nn

from app.config import PROJECT_ROOT
from app.export.pretrained import PRETRAINED, load_pretrained
from app.imaging.decode import ImageLimits
from app.runtime.loader import LoadOptions, load_store
from bench.load_client import Connection, closed_loop, http_request
from bench.resnet18 import NAME as RESNET
from bench.resnet18 import resnet18, write_resnet18_entry
from bench.server import server_process

LITE0 = "efficientnet_lite0"
PHOTO = PROJECT_ROOT / "static" / "samples" / LITE0 / "chelsea.jpg"
METHODS = ("saliency", "grad_cam")
GOAL = 0.6


@dataclass(frozen=True)
class Row:
    model: str
    method: str
    ours_ms: float
    captum_ms: float
    parts: dict[str, float]  # the response's own timing, medians
    per_second: dict[int, float]  # concurrency -> explanations/s

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.captum_ms


def torch_models() -> dict[str, tuple[nn.Module, nn.Module]]:
    """model name -> (torch module, its Grad-CAM layer), the same weights as served."""
    net = resnet18()
    lite = load_pretrained(PRETRAINED[LITE0])
    return {RESNET: (net, net.layer4[1].relu2), LITE0: (lite, lite.head_act)}


def captum_call(
    net: nn.Module, layer: nn.Module, method: str, x: torch.Tensor, target: int
) -> Callable[[], object]:
    if method == "saliency":
        return lambda: CaptumSaliency(net).attribute(x.clone().requires_grad_(), target=target)
    size = tuple(x.shape[2:])

    def grad_cam() -> object:
        maps = LayerGradCam(net, layer).attribute(x.clone(), target=target, relu_attributions=True)
        return LayerAttribution.interpolate(maps, size, "bilinear")

    return grad_cam


def explain_request(model: str, method: str, target: int, photo: bytes) -> bytes:
    target_query = f"/explain/{method}?model={model}&target={target}"
    return http_request("POST", target_query, photo, "image/jpeg")


async def timed_requests(port: int, request: bytes, count: int) -> tuple[list[float], list[dict]]:
    connection = await Connection.open(port)
    times, timings = [], []
    try:
        for _ in range(count):
            started = time.perf_counter()
            status, body, _ = await connection.send(request)
            times.append(time.perf_counter() - started)
            assert status == 200, body[:300]
            timings.append(json.loads(body)["timing"])
    finally:
        connection.close()
    return times, timings


def measure(port: int, store: Path, repeats: int) -> list[Row]:
    photo = PHOTO.read_bytes()
    local = load_store(store, LoadOptions(eager_explain_graphs=False))
    rows = []
    for name, (net, layer) in torch_models().items():
        model = local.get(name)
        image = model.preprocess([photo], ImageLimits())  # (1, 3, 224, 224)
        target = int(np.argmax(model.logits(image)[0]))
        x = torch.from_numpy(image)
        for method in METHODS:
            request = explain_request(name, method, target, photo)
            captum = captum_call(net, layer, method, x, target)
            asyncio.run(timed_requests(port, request, 2))  # warm-up: builds the graph
            captum()
            ours, theirs, timings = [], [], []
            for _ in range(repeats):  # alternating
                times, timing = asyncio.run(timed_requests(port, request, 1))
                ours += times
                timings += timing
                started = time.perf_counter()
                captum()
                theirs.append(time.perf_counter() - started)
            parts = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
            rates = {c: asyncio.run(closed_loop(port, [request], c, 6.0)).rate for c in (1, 8)}
            rows.append(Row(name, method, 1000 * min(ours), 1000 * min(theirs), parts, rates))
    return rows


def run(repeats: int, threads: int) -> list[Row]:
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as root:
        store = Path(root) / "store"
        shutil.copytree(PROJECT_ROOT / "model_store" / LITE0, store / LITE0)
        write_resnet18_entry(store)
        env = {
            "LANTERN_MODEL_STORE": str(store),
            "LANTERN_ORT_INTRA_OP_THREADS": str(threads),
            "LANTERN_EXPLAIN_QUEUE_SIZE": "16",
        }
        with server_process(env, timeout=180) as server:
            return measure(server.port, store, repeats)


def print_rows(rows: list[Row], threads: int) -> None:
    print(f"threads: torch {threads}, onnxruntime {threads}; best of the alternated runs")
    print(
        f"{'model':<19} {'method':<9} {'HTTP ms':>8} {'Captum ms':>10} {'ratio':>6} "
        f"{'pre':>5} {'expl':>5} {'rend':>5} {'c=1/s':>6} {'c=8/s':>6}  goal <= {GOAL}"
    )
    for row in rows:
        p = row.parts
        print(
            f"{row.model:<19} {row.method:<9} {row.ours_ms:>8.1f} {row.captum_ms:>10.1f} "
            f"{row.ratio:>6.2f} {p['preprocess_ms']:>5.1f} {p['explain_ms']:>5.1f} "
            f"{p['render_ms']:>5.1f} {row.per_second[1]:>6.1f} {row.per_second[8]:>6.1f}  "
            + ("met" if row.ratio <= GOAL else "MISSED")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print_rows(run(min(args.repeats, 50), args.threads), args.threads)


if __name__ == "__main__":
    main()
