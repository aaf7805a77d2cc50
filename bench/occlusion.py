"""Occlusion: Lantern (onnxruntime, batched) against Captum's `Occlusion` (torch) with
`perturbations_per_eval` 1, 16 and 64, on the same weights, window, stride and baseline, with
the same thread count for torch and onnxruntime. Baseline: the best Captum setting of the same
run. Models: the shipped mnist_cnn (its ONNX initializers loaded into the torch architecture)
and a ResNet-18 with random weights at 224x224 (exported to ONNX here).
Usage: python -m bench.occlusion [--threads 1] [--repeats 3] [--store model_store]"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch
from captum.attr import Occlusion as CaptumOcclusion
from onnx import numpy_helper
from torch import nn

from app.config import PROJECT_ROOT
from app.explain.base import ExplainInput
from app.explain.occlusion import Occlusion, OcclusionParams
from app.export.architectures import mnist_cnn
from app.store.sessions import create_session

PER_EVAL = (1, 16, 64)
TARGET = 3
SHAPES = {"mnist_cnn": (1, 28, 28), "resnet18": (3, 224, 224)}


class Block(nn.Module):
    """ResNet basic block (two 3x3 convs, BN, ReLU; 1x1 projection when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout),
        )  # fmt: skip
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.skip(x))


def resnet18(classes: int = 1000) -> nn.Module:
    """ResNet-18 (He et al. 2016) layer for layer: 11.7 M parameters, random weights."""
    widths, layers, cin = (64, 128, 256, 512), [], 64
    for stage, width in enumerate(widths):
        layers += [Block(cin, width, 1 if stage == 0 else 2), Block(width, width, 1)]
        cin = width
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes),
    ).eval()  # fmt: skip


def to_onnx(net: nn.Module, shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, (torch.randn(1, *shape),), buffer, dynamo=False, opset_version=17,
            input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "N"}},
        )  # fmt: skip
    return buffer.getvalue()


def shipped_mnist(store: Path) -> tuple[nn.Module, bytes]:
    """The shipped mnist_cnn as ONNX bytes and as torch with the same weights."""
    model_bytes = (store / "mnist_cnn" / "1" / "model.onnx").read_bytes()
    weights = onnx.load_from_string(model_bytes).graph.initializer
    net = mnist_cnn().eval()
    net.load_state_dict(
        {w.name: torch.from_numpy(numpy_helper.to_array(w).copy()) for w in weights}
    )
    return net, model_bytes


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
    session = create_session(model_bytes, threads)

    def forward(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {"input": batch})[0]

    given = ExplainInput(image, [TARGET], None, 1000, forward=forward)  # type: ignore[arg-type]
    params = OcclusionParams(window_height=window, window_width=window, stride=stride)
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
    print(f"  {'lantern (onnxruntime, batches of 32)':40} wall {wall:7.3f} s   cpu {cpu:7.3f} s")
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
            f"  ratio lantern / captum best ({kind}, per_eval={best}): {ratio:.2f}  (goal <= 0.6)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "model_store")
    args = parser.parse_args()
    net, model_bytes = shipped_mnist(args.store)
    compare("mnist_cnn", net, model_bytes, 4, 2, args)
    net = resnet18()
    compare("resnet18", net, to_onnx(net, (3, 224, 224)), 32, 16, args)


if __name__ == "__main__":
    with torch.no_grad():
        main()
