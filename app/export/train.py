"""Train a classifier on a Split with fixed seeds, light augmentation and a one-cycle schedule.

Digits get small random affine transforms and AdamW; colour images (CIFAR) get random crops of
a zero-padded image with horizontal flips, and SGD with Nesterov momentum."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from app.export.datasets import Split


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    learning_rate: float
    seed: int = 0
    max_shift: float = 0.1  # of the image side, for the random affine augmentation
    max_rotation_deg: float = 10.0
    mean: float | tuple[float, ...] = 0.0  # inputs are (pixels - mean) / std, per channel,
    std: float | tuple[float, ...] = 1.0  # as the manifest tells the server
    augmentation: str = "affine"  # a key of AUGMENTATIONS
    crop_padding: int = 4  # pixels, for the random crop augmentation
    optimiser: str = "adamw"  # or "sgd" (Nesterov momentum)
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    channels_last: bool = False  # faster convolutions on CPU (oneDNN)
    bfloat16: bool = False  # autocast to bfloat16 while training: about 2x on AVX512-BF16 CPUs


@dataclass(frozen=True)
class TrainResult:
    model: nn.Module
    validation_accuracy: float
    train_seconds: float


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def random_affine(
    images: torch.Tensor, config: TrainConfig, generator: torch.Generator
) -> torch.Tensor:
    """Small random rotations, scalings and shifts of a batch (N, C, H, W), zeros outside."""
    count = images.shape[0]
    angle = (torch.rand(count, generator=generator) * 2 - 1) * np.deg2rad(config.max_rotation_deg)
    scale = 1 + (torch.rand(count, generator=generator) * 2 - 1) * 0.1
    shift = (torch.rand(count, 2, generator=generator) * 2 - 1) * 2 * config.max_shift
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")


def random_crop_flip(
    images: torch.Tensor, config: TrainConfig, generator: torch.Generator
) -> torch.Tensor:
    """Random crops of a batch (N, C, H, W) zero-padded by `config.crop_padding` pixels per side,
    each mirrored left-right with probability 1/2: the standard CIFAR augmentation."""
    count, _, height, width = images.shape
    pad = config.crop_padding
    padded = F.pad(images, (pad, pad, pad, pad)).permute(0, 2, 3, 1)  # (N, H+2p, W+2p, C)
    rows = torch.randint(0, 2 * pad + 1, (count, 1), generator=generator) + torch.arange(height)
    cols = torch.randint(0, 2 * pad + 1, (count, 1), generator=generator) + torch.arange(width)
    flip = torch.rand(count, 1, generator=generator) < 0.5
    cols = torch.where(flip, cols.flip(1), cols)  # (N, W)
    crops = padded[torch.arange(count)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return crops.permute(0, 3, 1, 2).contiguous()  # (N, C, H, W)


AUGMENTATIONS = {"affine": random_affine, "crop_flip": random_crop_flip}


def as_pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] or float [0, 1] images -> float32 in [0, 1]."""
    return images.float() / 255 if images.dtype == torch.uint8 else images


def pad_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """Centre images (N, C, h, w) on a size x size canvas of zeros."""
    extra = size - images.shape[-1]
    return F.pad(images, (extra // 2, extra - extra // 2, extra // 2, extra - extra // 2))


def model_inputs(images: torch.Tensor, input_size: int, config: TrainConfig) -> torch.Tensor:
    """Pixels (N, C, h, w) in [0, 1] (or uint8) -> the model's input (N, C, size, size)."""
    mean = torch.tensor(config.mean, dtype=torch.float32).reshape(-1, 1, 1)
    std = torch.tensor(config.std, dtype=torch.float32).reshape(-1, 1, 1)
    return (pad_to(as_pixels(images), input_size) - mean) / std


def accuracy(
    model: nn.Module, split: Split, input_size: int, config: TrainConfig, bfloat16: bool = False
) -> float:
    """Top-1 accuracy on `split`, in float32 unless `bfloat16` (a quicker progress figure)."""
    model.eval()
    correct = 0
    batch_size = 250  # batches that stay in cache: 2-3 times faster on a CPU than 1000
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=bfloat16):
        for start in range(0, len(split), batch_size):
            images = model_inputs(
                torch.from_numpy(split.images[start : start + batch_size]), input_size, config
            ).to(memory_format=memory_format)
            labels = torch.from_numpy(split.labels[start : start + batch_size])
            correct += int((model(images).argmax(1) == labels).sum())
    return correct / len(split)


def train(
    model: nn.Module, data: Split, validation: Split, input_size: int, config: TrainConfig
) -> TrainResult:
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)  # type: ignore[call-overload]  # not in stubs
    optimiser = make_optimiser(model, config)
    augment = AUGMENTATIONS[config.augmentation]
    steps = config.epochs * ((len(data) + config.batch_size - 1) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, config.learning_rate, total_steps=steps
    )
    images, labels = torch.from_numpy(data.images), torch.from_numpy(data.labels)
    started = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(data), generator=generator)
        bar = tqdm(
            order.split(config.batch_size), desc=f"epoch {epoch + 1}/{config.epochs}", mininterval=2
        )
        for batch in bar:
            pixels = augment(as_pixels(images[batch]), config, generator)
            inputs = model_inputs(pixels, input_size, config).to(memory_format=memory_format)
            with torch.autocast("cpu", torch.bfloat16, enabled=config.bfloat16):
                logits = model(inputs)
            loss = F.cross_entropy(
                logits.float(), labels[batch], label_smoothing=config.label_smoothing
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.4f}")
        progress = accuracy(model, validation, input_size, config, config.bfloat16)
        print(f"epoch {epoch + 1}: validation accuracy {progress:.4f}")
    seconds = time.perf_counter() - started
    final = accuracy(model, validation, input_size, config)
    model = model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    return TrainResult(model.eval(), final, seconds)


def make_optimiser(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, or SGD with Nesterov momentum 0.9; weight decay on every parameter."""
    if config.optimiser == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.learning_rate,
            momentum=0.9,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
    return torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
