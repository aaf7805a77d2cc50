"""python -m app.evaluate MODEL FOLDER [--methods a,b] [--out report.json]: the evaluation job's
code, run here without a server, on a folder of images (`<class>/<image>` gives labels) or a
zip or tar of one; writes the result as JSON and a self-contained HTML report beside it.

Every option of POST /models/{name}/evaluate is a flag (--steps, --substrate, --seed, ...).
The store, threads and limits are the server's settings (LANTERN_* variables); the cost is
estimated first and refused past --max-passes (default LANTERN_MAX_EVALUATION_PASSES)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from app.config import PROJECT_ROOT, Settings
from app.errors import LanternError
from app.evaluate.cost import require_within
from app.evaluate.folder import read_folder
from app.evaluate.job import KEY, plan
from app.evaluate.params import EncodedImage, EvaluationOptions, EvaluationParams
from app.evaluate.progress_bar import ProgressBar
from app.evaluate.report import write_report
from app.evaluate.result import EvaluationResult
from app.job_kinds import JOB_KINDS
from app.runtime.loader import load_store

LISTS = {"methods": "method keys, comma-separated", "metrics": "metric groups, comma-separated"}


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m app.evaluate", description=__doc__)
    found.add_argument("model", help="a model of the store")
    found.add_argument("folder", type=Path, help="a folder of images, or a .zip / .tar of one")
    found.add_argument("--out", type=Path, default=Path("report.json"), help="the JSON result")
    found.add_argument("--store", type=Path, help="the model store (default: the settings')")
    found.add_argument("--max-passes", type=int, help="refuse estimates above this")
    for name, field in EvaluationOptions.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if name in LISTS:
            found.add_argument(flag, default="", help=LISTS[name])
        else:
            kind = type(field.default) if field.default is not None else int
            found.add_argument(flag, type=kind, help=field.description)
    return found


def options_of(arguments: argparse.Namespace) -> dict[str, object]:
    """The evaluation options the flags set (the others keep their defaults)."""
    chosen: dict[str, object] = {}
    for name in EvaluationOptions.model_fields:
        value = getattr(arguments, name)
        if name in LISTS:
            value = [part.strip() for part in value.split(",") if part.strip()]
        if value not in (None, []):
            chosen[name] = value
    return chosen


def evaluate(arguments: argparse.Namespace, settings: Settings) -> EvaluationResult:
    model = load_store(arguments.store or settings.model_store, settings.load_options).get(
        arguments.model
    )
    images = read_folder(arguments.folder, settings.archive_limits)
    encoded = [EncodedImage.of(image.path, image.label, image.data) for image in images]
    params = EvaluationParams.model_validate({**options_of(arguments), "images": encoded})
    planned = plan(model, params, settings.image_limits)
    found = planned.estimate
    require_within(found, arguments.max_passes or settings.max_evaluation_passes)
    print(
        f"{model.name}: {len(images)} image(s), {len(planned.spec.parameters['methods'])} "
        f"method(s), about {found.passes:,} forward passes (~{found.seconds:.0f} s)",
        file=sys.stderr,
    )
    bar = ProgressBar(planned.spec.steps)
    planned_params = EvaluationParams.model_validate(planned.spec.parameters)
    result = JOB_KINDS[KEY].run(model, planned_params, bar.progress())
    return EvaluationResult.model_validate(result)


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        result = evaluate(arguments, Settings())
    except (LanternError, ValidationError) as error:
        message = error.message if isinstance(error, LanternError) else str(error)
        print(f"python -m app.evaluate: {message}", file=sys.stderr)
        return 2
    out, page = write_report(result, arguments.out, PROJECT_ROOT / "static")
    print(f"wrote {out} and {page} ({result.timing.seconds:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
