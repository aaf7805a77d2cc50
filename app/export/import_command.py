"""`python -m app.export import`: its arguments and the report it prints."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.export.import_checks import ImportOptions, ModelImportError
from app.export.importer import ImportReport, import_model
from app.export.presets import PRESETS


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `import` subcommand and its options."""
    importer = commands.add_parser(
        "import",
        help="check an ONNX classifier made elsewhere and store it",
        description="Explicit options override the preset; the graph's static shape wins.",
    )
    importer.add_argument("model", type=Path, help="the .onnx file")
    importer.add_argument("--name", required=True, help="store name (a-z, 0-9, _ and -)")
    importer.add_argument("--out", type=Path, default=Path("model_store"), help="model store")
    importer.add_argument("--labels", type=Path, help="class names, one a line, index order")
    importer.add_argument("--preset", choices=sorted(PRESETS), help="size, mean/std, labels")
    importer.add_argument("--size", type=_size, help="input size: N or HxW (if not in the graph)")
    importer.add_argument("--channels", type=int, choices=(1, 3))
    importer.add_argument("--layout", choices=("NCHW", "NHWC"), help="default: from the shape")
    importer.add_argument("--mean", type=float, nargs="+", help="per channel, on [0, 1] pixels")
    importer.add_argument("--std", type=float, nargs="+", help="per channel, on [0, 1] pixels")
    importer.add_argument("--resize", choices=("stretch", "center_crop"))
    importer.add_argument("--resize-shorter-to", type=int, help="for center_crop")
    importer.add_argument("--background", choices=("black", "white", "contrast"))
    importer.add_argument("--description", default="")


def _size(text: str) -> tuple[int, int]:
    try:
        parts = [int(part) for part in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not N or HxW")
    return (parts[0], parts[-1])


def run(args: argparse.Namespace, command: str) -> ImportReport:
    options = ImportOptions(
        name=args.name,
        preset=args.preset,
        labels_file=args.labels,
        size=args.size,
        channels=args.channels,
        layout=args.layout,
        mean=tuple(args.mean) if args.mean else None,
        std=tuple(args.std) if args.std else None,
        resize=args.resize,
        resize_shorter_to=args.resize_shorter_to,
        background=args.background,
        description=args.description,
    )
    try:
        report = import_model(args.model, options, args.out, command)
    except ModelImportError as error:
        raise SystemExit(f"import refused: {error}") from error
    print(describe(report))
    return report


def describe(report: ImportReport) -> str:
    """The import report, one fact a line."""
    shape = report.input
    batch = "dynamic" if shape.batch is None else f"fixed at {shape.batch}"
    lines = [
        f"wrote {report.folder}",
        f"  input '{shape.name}': {shape.layout}, {shape.channels}x{shape.height}x{shape.width}, "
        f"batch {batch}; opset {report.opset}; {report.classes} classes",
        f"  default CAM layer: {report.cam_layer or 'none (no Conv layer found)'}",
    ]
    lines.append(f"  op coverage: {op_coverage(report)}")
    if report.self_check is not None:
        lines.append(f"  gradient {report.self_check.describe()}")
    if report.gradient_error is None:
        lines.append("  gradient engine: on (every op on the gradient path has a backward rule)")
    else:
        ops = ", ".join(f"{op} (node '{node}')" for op, node in report.unsupported)
        lines.append(f"  gradient engine: OFF for this model: {ops or report.gradient_error}")
    lines.append(f"  explanation methods: {', '.join(report.methods)}")
    lines.extend(f"  note: {note}" for note in report.notes)
    return "\n".join(lines)


def op_coverage(report: ImportReport) -> str:
    """'N of M op types on the gradient path have a backward rule (Conv 20, Relu 17, ...)'."""
    missing = {op for op, _ in report.unsupported}
    counts = sorted(report.path_ops.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(
        f"{op} {count}" + (" (no rule)" if op in missing else "") for op, count in counts
    )
    covered, total = len(report.path_ops) - len(missing), len(report.path_ops)
    return f"{covered} of {total} op types on the gradient path have a backward rule ({listed})"
