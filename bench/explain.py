"""Explanation speed: Lantern's gradient engine (onnxruntime) against Captum (torch autograd)
on the same model, input and thread count, side by side in one run; and our explain run
against our forward run. Baselines: Captum's time, and the forward time, of the same run.
Usage: python -m bench.explain [--repeats 5] [--threads 2]"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import onnx
import torch
from captum.attr import GuidedBackprop as CaptumGuided
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import LayerGradCam
from captum.attr import Saliency as CaptumSaliency

from app.explain.base import Budget, ExplainInput
from app.explain.registry import METHODS
from app.runtime.loader import LoadOptions, bare_manifest, load_graph
from app.runtime.sessions import SessionFactory
from app.store.manifest import Layers
from bench.resnet18 import resnet18, to_onnx
from bench.shipped import shipped_mnist_cnn


def best_of(runs: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best time of each run, the runs interleaved so that load from other processes on a
    shared machine hits them alike. Each timed run follows an untimed one of its own: right
    after a torch call, torch's threads still hold the cores for a while, and an onnxruntime
    run then took ~0.8 ms longer on mnist_cnn (twice its time alone), which a server that
    never imports torch does not see."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, taken in zip(runs, times, strict=True):
            run()
            started = time.perf_counter()
            run()
            taken.append(time.perf_counter() - started)
    return [min(taken) for taken in times]


def cases() -> dict[str, tuple[torch.nn.Module, onnx.ModelProto, str, torch.nn.Module]]:
    net, model = shipped_mnist_cnn()
    layer = "/relu2/Relu_output_0"
    big = resnet18()
    big_model = to_onnx(big, big.input_shape)
    big_layer = [n.output[0] for n in big_model.graph.node if n.op_type == "Relu"][-1]
    return {
        "mnist_cnn": (net, model, layer, net.relu2),
        "resnet18@224": (big, big_model, big_layer, big.layer4[1].relu2),
    }


def measure(name: str, net, model, layer: str, module, repeats: int, threads: int) -> None:  # type: ignore[no-untyped-def]
    shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:])
    image = np.random.default_rng(0).normal(0, 1, (1, *shape)).astype(np.float32)
    manifest = bare_manifest(model).model_copy(update={"layers": Layers(cam=layer)})
    running = load_graph(model, manifest, LoadOptions(SessionFactory(threads)))
    given = ExplainInput(running, image, [3], Budget(10**9), layer=layer)
    session = running.session
    x = torch.from_numpy(image)
    ours = {
        "saliency": lambda: METHODS["saliency"].explain(given, METHODS["saliency"].Params()),
        "guided_backprop": lambda: METHODS["guided_backprop"].explain(
            given, METHODS["guided_backprop"].Params()
        ),
        "integrated_gradients(32)": lambda: METHODS["integrated_gradients"].explain(
            given, METHODS["integrated_gradients"].Params(steps=32)
        ),
        "grad_cam": lambda: METHODS["grad_cam"].explain(given, METHODS["grad_cam"].Params()),
    }
    theirs = {
        "saliency": lambda: CaptumSaliency(net).attribute(
            x.clone().requires_grad_(), target=3, abs=False
        ),
        "guided_backprop": lambda: CaptumGuided(net).attribute(
            x.clone().requires_grad_(), target=3
        ),
        "integrated_gradients(32)": lambda: CaptumIG(net).attribute(
            x.clone(), target=3, n_steps=32, method="riemann_trapezoid", internal_batch_size=32
        ),
        "grad_cam": lambda: LayerGradCam(net, module).attribute(x.clone(), target=3),
    }
    forward, explain_run = best_of(
        [
            lambda: session.run(None, {"input": image}),
            lambda: running.engine.run(image, given.seeds()),
        ],
        3 * repeats,
    )
    print(
        f"\n{name}: forward {forward * 1000:.2f} ms, explain run {explain_run * 1000:.2f} ms, "
        f"explain / forward = {explain_run / forward:.2f}"
    )
    print(f"  {'method':<26} {'ours ms':>9} {'Captum ms':>10} {'ours/Captum':>12}")
    for method in ours:
        mine, reference = best_of([ours[method], theirs[method]], repeats)
        ratio = mine / reference
        print(f"  {method:<26} {mine * 1000:>9.2f} {reference * 1000:>10.2f} {ratio:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads: torch {torch.get_num_threads()}, onnxruntime {args.threads}")
    for name, (net, model, layer, module) in cases().items():
        measure(name, net, model, layer, module, args.repeats, args.threads)


if __name__ == "__main__":
    main()
