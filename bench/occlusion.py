"""Occlusion: Lantern (onnxruntime, batched, on crops where its plan says so:
app/explain/crops.py; the plan's sessions are built before the timing) against Captum's
`Occlusion` (torch) with `perturbations_per_eval` 1, 16 and 64, on the same weights, window,
stride and baseline, with the same thread count for torch and onnxruntime. Baseline: the best
Captum setting of the same run. Models: the shipped mnist_cnn (its ONNX initializers loaded
into the torch architecture) and the benchmarks' ResNet-18 (bench/resnet18.py) with random
weights at 224x224.
Usage: python -m bench.occlusion [--threads 1] [--repeats 3] [--store model_store]"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch
from captum.attr import Occlusion as CaptumOcclusion
from torch import nn

from app.config import PROJECT_ROOT
from app.explain.base import Budget, ExplainInput
from app.explain.occlusion import Occlusion, OcclusionParams
from app.explain.patches import crop_plan, patch_masks
from app.runtime.loader import LoadOptions, bare_manifest, load_graph
from app.runtime.sessions import SessionFactory
from bench.resnet18 import resnet18, to_onnx
from bench.shipped import shipped_mnist_cnn

PER_EVAL = (1, 16, 64)
TARGET = 3
SHAPES = {"mnist_cnn": (1, 28, 28), "resnet18": (3, 224, 224)}


def best_times(run: Callable[[], np.ndarray], repeats: int) -> tuple[float, float, np.ndarray]:
    """The best wall-clock and CPU seconds of `repeats` runs, and the last result. CPU time is
    the steadier figure on a shared machine; with one thread it is the work done."""
    wall, cpu, result = float("inf"), float("inf"), np.zeros(0)
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = run()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu, result


def ours(
    model_bytes: bytes, image: np.ndarray, window: int, stride: int, threads: int
) -> Callable[[], np.ndarray]:
    graph = onnx.load_from_string(model_bytes)
    running = load_graph(graph, bare_manifest(graph), LoadOptions(SessionFactory(threads)))
    given = ExplainInput(running, image, [TARGET], Budget(10**9))
    params = OcclusionParams(window_height=window, window_width=window, stride=stride)
    rows, cols = patch_masks(image.shape[2:], (window, window), stride)
    plan = crop_plan(given, rows, cols)  # as a served model's first occlusion request makes it
    if plan is None:
        print("  lantern runs every patch's whole forward pass (no crop plan)")
    else:
        running.segments.chain(plan.cuts)  # its sessions, built before the timing
        print(
            f"  lantern runs on crops: {plan.parts} part(s) to {plan.cuts[-1]}, "
            f"estimated {plan.estimate:.2f} of the whole forward passes"
        )
    return lambda: Occlusion().explain(given, params).heatmaps[0]


def captum(
    net: nn.Module, image: np.ndarray, window: int, stride: int, per_eval: int
) -> Callable[[], np.ndarray]:
    occlusion = CaptumOcclusion(lambda x: torch.softmax(net(x), dim=1))
    return lambda: occlusion.attribute(
        torch.from_numpy(image), sliding_window_shapes=(image.shape[1], window, window),
        strides=(1, stride, stride), baselines=0.0, target=TARGET, perturbations_per_eval=per_eval,
    )[0, 0].numpy()  # fmt: skip


def compare(
    name: str,
    net: nn.Module,
    model_bytes: bytes,
    window: int,
    stride: int,
    args: argparse.Namespace,
) -> None:
    torch.set_num_threads(args.threads)
    shape = (1, *SHAPES[name])
    image = np.random.default_rng(0).normal(0, 1, shape).astype(np.float32)
    repeats = args.repeats if name == "mnist_cnn" else 1
    print(f"\n{name}: input {shape}, window {window}, stride {stride}, {args.threads} thread(s)")
    wall, cpu, our_map = best_times(ours(model_bytes, image, window, stride, args.threads), repeats)
    print(f"  {'lantern (onnxruntime)':40} wall {wall:7.3f} s   cpu {cpu:7.3f} s")
    timings = {}
    for per_eval in PER_EVAL:
        *timings[per_eval], reference = best_times(
            captum(net, image, window, stride, per_eval), repeats
        )
        error = np.abs(our_map - reference).max() / max(np.abs(reference).max(), 1e-12)
        label = f"captum perturbations_per_eval={per_eval}"
        seconds = f"wall {timings[per_eval][0]:7.3f} s   cpu {timings[per_eval][1]:7.3f} s"
        print(f"  {label:40} {seconds}   max rel. diff {error:.1e}")
    for kind, index, ours_seconds in (("wall", 0, wall), ("cpu", 1, cpu)):
        best = min(timings, key=lambda k: timings[k][index])
        ratio = ours_seconds / timings[best][index]
        print(
            f"  ratio lantern / captum best ({kind}, per_eval={best}): {ratio:.2f}  (goal <= 0.5)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "model_store")
    args = parser.parse_args()
    net, model = shipped_mnist_cnn(args.store)
    compare("mnist_cnn", net, model.SerializeToString(), 4, 2, args)
    big = resnet18()
    compare("resnet18", big, to_onnx(big, big.input_shape).SerializeToString(), 32, 16, args)


if __name__ == "__main__":
    with torch.no_grad():
        main()
