"""Every explanation method, with its default parameters, on a shipped model (default: the
photo model, efficientnet_lite0) and one of its UI samples (default: chelsea.jpg), with
onnxruntime on a fixed number of threads, through the service that /explain runs (decode,
method, pictures). Baseline: the model's forward pass on that picture, measured in the same
run (best of 40); each method is printed in milliseconds and as a ratio to it.
Usage: python -m bench.photo [--model NAME] [--sample FILE] [--threads 2] [--repeats 3]
                             [--markdown]"""

from __future__ import annotations

import argparse
import time

from app.config import PROJECT_ROOT, Settings
from app.explain.options import ExplainOptions
from app.explain.registry import METHODS
from app.explain.service import ImageUpload, RequestLimits, explain_image
from app.imaging.decode import ImageLimits
from app.runtime.loader import LoadOptions, load_entry
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory
from app.store.layout import entry_folders

STORE, SAMPLES = PROJECT_ROOT / "model_store", PROJECT_ROOT / "static" / "samples"
SLOW_SECONDS = 3.0  # a method slower than this on its first run is not repeated


def forward_ms(model: RunningModel, photo: bytes, runs: int = 20) -> float:
    """The best time of one forward pass on the preprocessed photo, in ms."""
    image = model.preprocess([photo], ImageLimits())  # (1, 3, 224, 224)
    model.logits(image)
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        model.logits(image)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def method_ms(model: RunningModel, key: str, photo: bytes, repeats: int) -> tuple[float, float]:
    """(method ms, whole request ms) of one method with its defaults, the best of `repeats`
    (one run only when it takes more than SLOW_SECONDS)."""
    method = METHODS[key]
    limits = RequestLimits(ImageLimits(), Settings().max_forward_passes)
    best: tuple[float, float] = (float("inf"), float("inf"))
    for attempt in range(repeats):
        body = explain_image(
            model, method, method.Params(), ExplainOptions(), ImageUpload(photo), limits
        )
        timing = body.timing
        best = min(best, (timing.explain_ms, timing.total_ms))
        if attempt == 0 and timing.total_ms > SLOW_SECONDS * 1000:
            break
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="efficientnet_lite0", help="a shipped model")
    parser.add_argument("--sample", default="chelsea.jpg", help="in static/samples/<model>/")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    name, version, folder = max(e for e in entry_folders(STORE) if e[0] == args.model)
    model = load_entry(name, version, folder, LoadOptions(SessionFactory(args.threads)))
    photo = (SAMPLES / name / args.sample).read_bytes()
    before = forward_ms(model, photo)
    times = {key: method_ms(model, key, photo, args.repeats) for key in METHODS}
    forward = min(before, forward_ms(model, photo))
    print(f"{name} v{version} on {args.sample}, {args.threads} onnxruntime threads: "
          f"forward pass {forward:.2f} ms (best of 40)")  # fmt: skip
    if args.markdown:
        print("\n| method | method ms | / forward | request ms |\n|---|---:|---:|---:|")
    for key, (explain, total) in times.items():
        if args.markdown:
            print(f"| {key} | {explain:.0f} | {explain / forward:.1f} | {total:.0f} |")
        else:
            print(f"  {key:<22} {explain:>9.0f} ms  {explain / forward:>7.1f} x forward"
                  f"  (request {total:.0f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
