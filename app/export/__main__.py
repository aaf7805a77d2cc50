"""python -m app.export train <arch> --data <dir> --out model_store
python -m app.export samples --data <dir> --models <name> --out static/samples
python -m app.export import model.onnx --name <name> --preset imagenet --out model_store
python -m app.export pretrained efficientnet_lite0 --out model_store"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from app.export import import_command, onnx_export, pretrained
from app.export.architectures import ARCHITECTURES
from app.export.datasets import MNIST_LABELS, load_mnist, read_idx
from app.export.folder_training import train_image_folder
from app.export.image_folder import read_image_folder, stratified_split
from app.export.train import TrainConfig, model_inputs, seed_everything, train

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.export", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train", help="train a shipped architecture and store it")
    trainer.add_argument("arch", choices=sorted(ARCHITECTURES))
    trainer.add_argument("--data", type=Path, required=True, help="folder of the training data")
    trainer.add_argument("--out", type=Path, default=Path("model_store"), help="model store")
    trainer.add_argument("--name", help="store name (default: the architecture's)")
    trainer.add_argument("--epochs", type=int, help="override the architecture's epoch count")
    trainer.add_argument("--limit", type=int, help="train on the first N images only")
    trainer.add_argument("--threads", type=int, default=torch.get_num_threads())
    add_split_options(trainer)
    samples = commands.add_parser("samples", help="write held-out images for the web UI")
    samples.add_argument(
        "--data", type=Path, required=True, help="the MNIST folder, or an image folder or archive"
    )
    samples.add_argument("--out", type=Path, default=Path("static/samples"), help="samples folder")
    samples.add_argument("--models", nargs="+", default=["mnist_cnn", "lenet5"])
    samples.add_argument("--per-class", type=int, default=1, help="images of each class")
    add_split_options(samples)
    import_command.add_parser(commands)
    pretrained.add_parser(commands)
    return parser.parse_args(argv)


def add_split_options(command: argparse.ArgumentParser) -> None:
    """How the data is split into training and held-out images: `train` and `samples` must
    agree, so the samples come from the held-out part."""
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--validation", type=int, default=5000, help="held-out MNIST digits")
    command.add_argument(
        "--validation-fraction", type=float, default=0.1, help="held out of each class (folders)"
    )


def write_samples(args: argparse.Namespace) -> list[Path]:
    """The first held-out images of each class as PNGs named <label>_<index>.png, one copy per
    model folder (the server preprocesses them like any upload). `--data` is the MNIST folder
    (the last `--validation` digits are held out) or an image folder or archive (the split
    training made with the same `--validation-fraction` and `--seed`)."""
    if (args.data / "train-images-idx3-ubyte.gz").exists():
        images = read_idx(args.data / "train-images-idx3-ubyte.gz")  # (N, 28, 28) uint8
        labels = read_idx(args.data / "train-labels-idx1-ubyte.gz")  # (N,)
        held_out = np.arange(len(labels) - args.validation, len(labels))
        names: tuple[str, ...] = MNIST_LABELS
    else:
        folder = read_image_folder(args.data)  # (N, H, W, 3)
        images, labels, names = folder.images, folder.labels, folder.classes
        held_out = np.sort(stratified_split(labels, args.validation_fraction, args.seed)[1])
    chosen = [
        int(index)
        for label in range(len(names))
        for index in held_out[labels[held_out] == label][: args.per_class]
    ]
    written = []
    for model in args.models:
        folder_path = args.out / model
        folder_path.mkdir(parents=True, exist_ok=True)
        for index in chosen:
            path = folder_path / f"{names[labels[index]]}_{index}.png"
            Image.fromarray(images[index]).save(path, optimize=True)
            written.append(path)
    print(f"wrote {len(written)} samples under {args.out}")
    return written


def run_train(args: argparse.Namespace, command: str) -> Path:
    arch = ARCHITECTURES[args.arch]
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    if arch.dataset == "image_folder":
        return train_image_folder(args, arch, command)
    data, validation = load_mnist(args.data, args.validation, args.limit)
    config = TrainConfig(
        epochs=args.epochs or arch.epochs,
        batch_size=arch.batch_size,
        learning_rate=arch.learning_rate,
        seed=args.seed,
        mean=MNIST_MEAN,
        std=MNIST_STD,
    )
    result = train(arch.build(), data, validation, arch.input_size, config)
    batch = model_inputs(torch.from_numpy(validation.images[:64]), arch.input_size, config)
    data_note = (
        f"MNIST handwritten digits: {len(data):,} training images, the last "
        f"{len(validation):,} of the training set held out for validation"
    )
    trained_on = (
        f"MNIST: {len(data):,} handwritten digits 0-9 (28x28 grey, white on black); "
        f"{len(validation):,} more held out to measure accuracy"
    )
    run = onnx_export.TrainingRun(
        args.name or args.arch, arch, result, config.epochs, command, data_note, trained_on
    )
    return onnx_export.store_trained(run, batch, digit_manifest(run), args.out)


def digit_manifest(run: onnx_export.TrainingRun) -> dict:
    """Manifest fields (all but the checksum) of an MNIST digit model."""
    preprocess = {
        "mean": [MNIST_MEAN],
        "std": [MNIST_STD],
        "background": "contrast",
        "digit": {"box": 20, "canvas": 28},
    }
    return run.entry_fields(1, "Trained on MNIST digits.", MNIST_LABELS, preprocess)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = shlex.join(["python", "-m", "app.export", *argv])
    if args.command == "train":
        run_train(args, command)
    elif args.command == "samples":
        write_samples(args)
    elif args.command == "import":
        import_command.run(args, command)
    elif args.command == "pretrained":
        pretrained.run(args, command)


if __name__ == "__main__":
    main()
