"""Train a classifier on a Split with fixed seeds, light augmentation and a one-cycle schedule."""

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
    mean: float = 0.0  # inputs are (pixels - mean) / std, as the manifest tells the server
    std: float = 1.0


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


def pad_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """Centre images (N, C, h, w) on a size x size canvas of zeros."""
    extra = size - images.shape[-1]
    return F.pad(images, (extra // 2, extra - extra // 2, extra // 2, extra - extra // 2))


def model_inputs(images: torch.Tensor, input_size: int, config: TrainConfig) -> torch.Tensor:
    """Pixels in [0, 1] (N, C, h, w) -> the model's input (N, C, size, size)."""
    return (pad_to(images, input_size) - config.mean) / config.std


def accuracy(model: nn.Module, split: Split, input_size: int, config: TrainConfig) -> float:
    model.eval()
    correct = 0
    batch_size = 1000
    with torch.no_grad():
        for start in range(0, len(split), batch_size):
            images = model_inputs(
                torch.from_numpy(split.images[start : start + batch_size]), input_size, config
            )
            labels = torch.from_numpy(split.labels[start : start + batch_size])
            correct += int((model(images).argmax(1) == labels).sum())
    return correct / len(split)


def train(
    model: nn.Module, data: Split, validation: Split, input_size: int, config: TrainConfig
) -> TrainResult:
    seed_everything(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
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
            inputs = model_inputs(
                random_affine(images[batch], config, generator), input_size, config
            )
            loss = F.cross_entropy(model(inputs), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.4f}")
        print(
            f"epoch {epoch + 1}: validation accuracy "
            f"{accuracy(model, validation, input_size, config):.4f}"
        )
    seconds = time.perf_counter() - started
    return TrainResult(model.eval(), accuracy(model, validation, input_size, config), seconds)
