"""Train a colour architecture (cifar_resnet) on an image folder or archive and store it."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from app.export import onnx_export
from app.export.architectures import Architecture
from app.export.image_folder import (
    ImageFolder,
    channel_statistics,
    read_image_folder,
    stratified_split,
    to_split,
)
from app.export.train import TrainConfig, model_inputs, train


def train_image_folder(args: argparse.Namespace, arch: Architecture, command: str) -> Path:
    """Hold out `args.validation_fraction` of each class, normalise by the training split's
    per-channel mean and std, train, export, check against torch and write the entry."""
    fraction = args.validation_fraction
    wanted = -(-args.limit // (1 - fraction)) if args.limit else None  # limit is for training
    folder = read_image_folder(args.data, int(wanted) if wanted else None)
    train_ids, validation_ids = stratified_split(folder.labels, fraction, args.seed)
    train_ids = train_ids[: args.limit] if args.limit else train_ids
    mean, std = channel_statistics(folder.images[train_ids])
    print(f"{len(train_ids)} training and {len(validation_ids)} validation images, "
          f"{len(folder.classes)} classes; mean {mean.round(4)}, std {std.round(4)}")  # fmt: skip
    config = TrainConfig(
        epochs=args.epochs or arch.epochs,
        batch_size=arch.batch_size,
        learning_rate=arch.learning_rate,
        seed=args.seed,
        mean=tuple(round(float(m), 4) for m in mean),  # as the manifest will say
        std=tuple(round(float(s), 4) for s in std),
        augmentation=arch.augmentation,
        optimiser=arch.optimiser,
        weight_decay=arch.weight_decay,
        label_smoothing=arch.label_smoothing,
        channels_last=arch.channels_last,
        bfloat16=arch.bfloat16,
    )
    model = arch.build()
    outputs = model(torch.zeros(2, 3, arch.input_size, arch.input_size)).shape[1]
    if outputs != len(folder.classes):
        raise ValueError(
            f"{args.arch} has {outputs} outputs, {args.data} {len(folder.classes)} classes"
        )
    validation = to_split(folder, validation_ids)
    result = train(model, to_split(folder, train_ids), validation, arch.input_size, config)
    batch = model_inputs(torch.from_numpy(validation.images[:64]), arch.input_size, config)
    data_note = (
        f"{dataset_name(args.data)}, {len(folder.classes)} classes: {len(train_ids):,} training "
        f"images, {len(validation_ids):,} held out ({fraction:.0%} of each class, seed {args.seed})"
    )
    size = f"{arch.input_size}x{arch.input_size}"
    trained_on = (
        f"{len(train_ids):,} colour images ({size}) of {len(folder.classes)} classes: "
        f"{', '.join(folder.classes)}; {len(validation_ids):,} more held out to measure accuracy"
    )
    run = onnx_export.TrainingRun(
        args.name or args.arch, arch, result, config.epochs, command, data_note, trained_on
    )
    return onnx_export.store_trained(run, batch, folder_manifest(run, folder, config), args.out)


GENERIC_NAMES = frozenset({"train", "training", "images", "data", "dataset"})
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def dataset_name(path: Path) -> str:
    """A plain name for the data, never a path: the folder's or archive's name, or its parent
    folder's when that name says nothing (`cifar10/train.tar.gz` -> `cifar10`)."""
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        name = name.removesuffix(suffix)
    if name.lower() in GENERIC_NAMES and path.resolve().parent.name:
        return path.resolve().parent.name
    return name


def folder_manifest(run: onnx_export.TrainingRun, folder: ImageFolder, config: TrainConfig) -> dict:
    """Manifest fields (all but the checksum) of a colour model trained on an image folder."""
    preprocess = {
        "resize": "center_crop",  # photographs keep their proportions; CIFAR passes as is
        "resize_shorter_to": run.arch.input_size,
        "mean": config.mean,
        "std": config.std,
        "background": "black",
    }
    description = f"Trained on {len(folder.classes)} classes of images."
    return run.entry_fields(3, description, folder.classes, preprocess)
