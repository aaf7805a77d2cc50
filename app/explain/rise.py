"""RISE (Petsiuk et al. 2018), https://arxiv.org/abs/1806.07421."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from app.explain.base import (
    Cost,
    ExplainInput,
    Explanation,
    Method,
    MethodParams,
    Workload,
    chunks,
)
from app.imaging.smoothing import resize_bilinear


class RISEParams(MethodParams):
    samples: int = Field(1000, ge=1, le=16384, description="random masks (N)")
    grid: int = Field(7, ge=2, le=64, description="cells per side of a random grid (s)")
    p: float = Field(0.5, gt=0, le=1, description="probability that a cell is kept")
    seed: int = Field(0, ge=0, description="mask generator seed")


class RISE(Method):
    """The expected mask under the target's probability: sum_i P(target | x * M_i) M_i / (N p).

    Each mask M_i is an s x s grid of cells kept with probability p, upsampled bilinearly to
    (s + 1) cells of ceil(H / s) x ceil(W / s) pixels and cropped to H x W at a random shift
    of less than one cell, as in the authors' code. The mask multiplies the input tensor
    (hidden pixels become zeros of the normalised input). The masks come from a seeded
    generator, so a seed gives the same map; N forward runs, batched.
    """

    family = "perturbation"
    needs_gradients = False
    summary = "the average of random masks weighted by the target's probability"
    Params = RISEParams
    budget_advice = "Use fewer samples."

    def explain(self, given: ExplainInput, params: RISEParams) -> Explanation:
        image = given.nchw(given.image)  # (1, C, H, W)
        mask_pixels = int(np.prod(upsampled_size(params.grid, image.shape[2:])))
        per_sample = mask_pixels + given.elements + len(given.targets) * given.pixels
        advice = "Use fewer samples or a smaller grid."
        given.budget.require(params.samples, "RISE", advice, params.samples * per_sample)
        grids, shifts = random_grids(params)
        saliency = np.zeros((len(given.targets), *image.shape[2:]))  # (T, H, W)
        for part in chunks(params.samples):
            masks = upsampled_masks(grids[part], shifts[part], image.shape[2:])  # (n, H, W)
            scores = given.scores(given.model_layout(image * masks[:, None]))[:, given.targets]
            saliency += np.einsum("nt,nhw->thw", scores, masks)
        return Explanation((saliency / (params.samples * params.p)).astype(np.float32))

    def cost(self, params: RISEParams, work: Workload) -> Cost:
        """One forward pass per mask, whatever the number of targets."""
        return Cost(params.samples)


def random_grids(params: RISEParams) -> tuple[np.ndarray, np.ndarray]:
    """Binary grids (N, s, s) and shifts (N, 2) in [0, 1), drawn once from the seed."""
    rng = np.random.default_rng(params.seed)
    grids = (rng.random((params.samples, params.grid, params.grid)) < params.p).astype(np.float32)
    return grids, rng.random((params.samples, 2))


def upsampled_size(grid: int, size: tuple[int, int]) -> tuple[int, int]:
    """The side lengths of a mask before its crop: (s + 1) cells of ceil(side / s) pixels."""
    height, width = ((grid + 1) * int(np.ceil(side / grid)) for side in size)
    return height, width


def upsampled_masks(grids: np.ndarray, shifts: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(n, s, s) grids and (n, 2) shifts -> (n, H, W) smooth masks, float32."""
    s = grids.shape[1]
    cells = [int(np.ceil(side / s)) for side in size]
    large = resize_bilinear(grids, *upsampled_size(s, size))
    offsets = np.floor(shifts * np.array(cells)).astype(int)  # (n, 2) in [0, cell)
    return np.stack(
        [
            mask[y : y + size[0], x : x + size[1]]
            for mask, (y, x) in zip(large, offsets, strict=True)
        ]
    )
