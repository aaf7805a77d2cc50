"""Where an explain run's time goes: onnxruntime's profiler on the forward graph and on the
explain graph (gradient rule, ReLU rule 0) of mnist_cnn, ResNet-18 at 224 and the shipped
EfficientNet-Lite0, summed per node type. The explain graph's nodes are split into its
forward part (the model's own nodes, as onnxruntime fused them) and the backward part (the
nodes the gradient engine added, named `bw/...`). Baseline: the forward graph, same run.
Usage: python -m bench.explain_profile [--runs 10] [--threads 2] [--top 12] [--only NAME]"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnxruntime as ort

from app.gradients import ExplainGraph, build_explain_graph
from app.gradients.propagation import PropagationRule
from app.runtime.sessions import SessionFactory
from app.store.manifest import Manifest
from bench.shipped import STORE, shipped_mnist_cnn

Feeds = dict[str, np.ndarray]


@dataclass
class Profile:
    """Per-run milliseconds by (part, node type), from one profiled session."""

    runs: int
    by_type: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    nodes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    run_ms: float = 0.0

    def part_ms(self, part: str) -> float:
        return sum(ms for (p, _), ms in self.by_type.items() if p == part)


def part_of(node_name: str) -> str:
    """`backward` for the nodes the gradient engine added (and onnxruntime's copies of them),
    `forward` for the model's own."""
    return "backward" if "bw/" in node_name else "forward"


def profiled(model: onnx.ModelProto, feeds: Feeds, runs: int, threads: int) -> Profile:
    """Run `model` once to warm up and `runs` times under the profiler."""
    options = SessionFactory(threads).options()
    folder = tempfile.mkdtemp(prefix="lantern_profile_")
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(folder, "run")
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    for _ in range(runs + 1):
        session.run(None, feeds)
    path = session.end_profiling()
    with open(path) as handle:
        events = json.load(handle)
    os.remove(path)
    os.rmdir(folder)
    return summarise(events, runs)


def summarise(events: list[dict], runs: int) -> Profile:
    """Sum the kernel times of the last `runs` model runs per (part, node type)."""
    starts = sorted(e["ts"] for e in events if e.get("name") == "model_run")
    first = starts[-runs] if len(starts) >= runs else 0
    profile = Profile(runs)
    seen_runs = [e for e in events if e.get("name") == "model_run" and e["ts"] >= first]
    profile.run_ms = sum(e["dur"] for e in seen_runs) / 1000 / runs
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        if event["ts"] < first:
            continue
        node_name = event["name"][: -len("_kernel_time")]
        key = (part_of(node_name), event["args"]["op_name"])
        profile.by_type[key] += event["dur"] / 1000 / runs
        profile.nodes[key] += 1
    for key in profile.nodes:
        profile.nodes[key] //= runs
    return profile


def report(name: str, forward: Profile, explain: Profile, top: int) -> None:
    fwd = forward.part_ms("forward")
    print(f"\n{name}: forward run {forward.run_ms:.2f} ms (kernels {fwd:.2f} ms); explain run "
          f"{explain.run_ms:.2f} ms = forward part {explain.part_ms('forward'):.2f} + backward "
          f"part {explain.part_ms('backward'):.2f} ms of kernels; explain / forward run = "
          f"{explain.run_ms / forward.run_ms:.2f}")  # fmt: skip
    print(f"  {'graph':<9} {'part':<9} {'node type':<22} {'nodes':>5} {'ms/run':>8} {'share':>6}")
    rows = [("forward", key, ms, forward.nodes[key]) for key, ms in forward.by_type.items()]
    rows += [("explain", key, ms, explain.nodes[key]) for key, ms in explain.by_type.items()]
    for graph in ("forward", "explain"):
        chosen = sorted((r for r in rows if r[0] == graph), key=lambda r: -r[2])[:top]
        total = forward.run_ms if graph == "forward" else explain.run_ms
        for _, (part, op_type), ms, count in chosen:
            share = ms / total
            print(f"  {graph:<9} {part:<9} {op_type:<22} {count:>5} {ms:>8.3f} {share:>6.1%}")


def explain_feeds(graph: ExplainGraph, image: np.ndarray, classes: int) -> Feeds:
    seed = np.zeros((len(image), classes), np.float32)
    seed[:, classes // 2] = 1.0
    feeds = {graph.input_name: image, graph.seed_name: seed}
    if graph.relu_rule_name is not None:
        feeds[graph.relu_rule_name] = np.asarray(0, np.int64)
    if graph.top_seed_name is not None:
        feeds[graph.top_seed_name] = np.zeros((len(image), 1), np.float32)
    if graph.propagation_name is not None:
        feeds.update(PropagationRule().feeds(image.shape))
    return feeds


def resnet18_model() -> onnx.ModelProto:
    from bench.resnet18 import resnet18, to_onnx

    net = resnet18()
    return to_onnx(net, net.input_shape)


def lite0_model() -> onnx.ModelProto:
    return onnx.load(str(STORE / "efficientnet_lite0" / "1" / "model.onnx"))


def cam_layer(model: onnx.ModelProto, name: str) -> list[str]:
    """The layer the engine's default explain graph also gives (as the service builds it)."""
    if name == "efficientnet_lite0":
        folder = STORE / "efficientnet_lite0" / "1"
        manifest = Manifest.model_validate_json((folder / "model.json").read_text())
        return [manifest.layers.cam] if manifest.layers.cam else []
    return [[n.output[0] for n in model.graph.node if n.op_type == "Relu"][-1]]


CASES: dict[str, Callable[[], onnx.ModelProto]] = {
    "mnist_cnn": lambda: shipped_mnist_cnn()[1],
    "resnet18@224": resnet18_model,
    "efficientnet_lite0": lite0_model,
}


def profile_case(name: str, runs: int, threads: int, top: int) -> None:
    model = CASES[name]()
    dims = model.graph.input[0].type.tensor_type.shape.dim
    image = np.random.default_rng(0).normal(0, 1, (1, *(d.dim_value for d in dims[1:])))
    image = image.astype(np.float32)
    classes = model.graph.output[0].type.tensor_type.shape.dim[-1].dim_value
    explain = build_explain_graph(model, cam_layer(model, name))
    feeds = explain_feeds(explain, image, classes)
    forward = profiled(model, {model.graph.input[0].name: image}, runs, threads)
    report(name, forward, profiled(explain.model, feeds, runs, threads), top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    for name in args.only or CASES:
        profile_case(name, args.runs, args.threads, args.top)


if __name__ == "__main__":
    main()
