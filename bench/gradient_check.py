"""What the gradient engine costs a big model at load, and what its self-check adds to the
shipped store's start-up.

    python -m bench.gradient_check models   # ResNet-50 and EfficientNet-B0 (timm, 224x224)
    python -m bench.gradient_check startup  # the shipped store, with and without the check

`models`: for each timm architecture (random weights, exported at opset 17 with a dynamic
batch): the explain graphs' build time and resident memory (GradientEngine's warm-up: the
full graph and the CAM one, with their sessions), the self-check's time and figure, and the
peak resident memory it adds. Baseline: a plain forward session of the same model.
`startup`: create_app's lifespan on model_store/, median of 5, with the self-check against a
baseline run with it switched off, in the same process.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import warnings
from pathlib import Path

import onnx

from app.runtime.derived import DerivedSessions
from app.runtime.engine import GradientEngine
from app.runtime.layers import default_cam_layer
from app.runtime.memory import resident_bytes
from app.runtime.sessions import SessionFactory

MODELS = ("resnet50", "efficientnet_b0")
SIZE = 224


def timm_model(name: str) -> onnx.ModelProto:
    import torch

    from tests.gradients.zoo import torchvision_stand_in

    torchvision_stand_in.install()
    import timm

    torch.manual_seed(0)
    net = timm.create_model(name, pretrained=False).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, (torch.zeros(1, 3, SIZE, SIZE),), buffer, dynamo=False, opset_version=17,
            input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
        )  # fmt: skip
    return onnx.load_from_string(buffer.getvalue())


def peak_bytes() -> int:
    """The process's peak resident memory (VmHWM), 0 where /proc has none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(name: str) -> None:
    model = timm_model(name)
    started = time.perf_counter()
    sessions = SessionFactory()
    forward = sessions.create(model)
    forward_seconds = time.perf_counter() - started
    layer = default_cam_layer(model, None)
    engine = GradientEngine(model, sessions, DerivedSessions(), (layer,) if layer else ())
    before = peak_bytes()
    check = engine.verify(lambda x: forward.run(None, {"image": x})[0], (3, SIZE, SIZE))
    assert check is not None, engine.error
    mib = 2**20
    print(
        f"{name} at {SIZE}x{SIZE}: explain graphs built in {engine.stats.build_seconds:.2f} s "
        f"({engine.stats.build_seconds / forward_seconds:.1f}x a forward session's "
        f"{forward_seconds:.2f} s), {engine.stats.session_bytes / mib:.0f} MiB resident; "
        f"{check.describe()}; peak memory +{max(0, peak_bytes() - before) / mib:.0f} MiB "
        f"(now {resident_bytes() / mib:.0f} MiB)"
    )


def startup_seconds(checked: bool, runs: int = 5) -> float:
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    original = GradientEngine.verify
    if not checked:
        GradientEngine.verify = lambda self, forward, shape: None  # type: ignore[method-assign]
    try:
        times = []
        for _ in range(runs):
            app = create_app(Settings(model_store=Path("model_store")))
            started = time.perf_counter()
            with TestClient(app):
                times.append(time.perf_counter() - started)
        return statistics.median(times)
    finally:
        GradientEngine.verify = original  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    if argv[:1] == ["startup"]:
        baseline, checked = startup_seconds(False), startup_seconds(True)
        print(
            f"shipped store start-up: {checked:.2f} s with the self-check, {baseline:.2f} s "
            f"without (+{checked - baseline:.2f} s, {checked / baseline:.2f}x)"
        )
        return
    for name in MODELS:
        measure(name)


if __name__ == "__main__":
    main(sys.argv[1:])
