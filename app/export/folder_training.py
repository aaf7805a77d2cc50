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
from app.export.train import TrainConfig, TrainResult, model_inputs, train


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
    onnx_bytes = onnx_export.export_onnx(result.model, batch[:2])
    check = onnx_export.check_against_torch(result.model, onnx_bytes, batch)
    print(f"ONNX matches torch on {len(batch)} images: max abs diff {check.max_abs_diff:.2e}")
    data_note = (
        f"{args.data.name}: {len(train_ids)} training images, {len(validation_ids)} held out "
        f"({fraction:.0%} of each class, seed {args.seed})"
    )
    name = args.name or args.arch
    fields = folder_manifest(name, arch, folder, result, config, command, data_note)
    entry = onnx_export.write_entry(onnx_bytes, fields, args.out)
    print(f"validation accuracy {result.validation_accuracy:.4f}; wrote {entry}")
    return entry


def folder_manifest(
    name: str,
    arch: Architecture,
    folder: ImageFolder,
    result: TrainResult,
    config: TrainConfig,
    command: str,
    data_note: str,
) -> dict:
    """Manifest fields (all but the checksum) of a colour model trained on an image folder."""
    fields = onnx_export.trained_entry_fields(name, arch, result, config.epochs, command, data_note)
    fields["input"]["channels"] = 3
    return {
        **fields,
        "description": f"{arch.summary} Trained on {len(folder.classes)} classes of images.",
        "labels": folder.classes,
        "preprocess": {
            "resize": "stretch",
            "mean": config.mean,
            "std": config.std,
            "background": "black",
        },
    }
