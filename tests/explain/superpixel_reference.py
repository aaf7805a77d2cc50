"""Captum's Lime and KernelShap run on the same superpixels, samples and baseline as ours."""

from __future__ import annotations

import numpy as np
import torch

from app.explain.base import reference_input
from app.explain.superpixel_base import SuperpixelParams, superpixels
from tests.explain.conftest import Case


def same_samples(keep: np.ndarray):
    """A Captum perturbation function (a generator) that yields our samples in order."""

    def perturb(_original, **_kwargs):
        for row in keep:
            yield torch.from_numpy(row[None].astype(np.int64))

    return perturb


def forward_of(case: Case, score: str):
    if score == "logit":
        return case.net
    return lambda batch: torch.softmax(case.net(batch), dim=1)


def captum_attributions(explainer, case: Case, params: SuperpixelParams, keep, target: int):
    """The explainer's attributions (H, W) of `target` with our superpixels as the feature
    mask and our baseline."""
    given = case.given([target])
    labels = superpixels(given, params)
    baseline = reference_input(given, params.baseline, params.blur_sigma).astype(np.float32)
    explainer.perturb_func = same_samples(keep)
    attributions = explainer.attribute(
        torch.from_numpy(case.image.copy()),
        baselines=torch.from_numpy(baseline),
        target=target,
        feature_mask=torch.from_numpy(labels)[None, None],
        n_samples=len(keep),
        perturbations_per_eval=50,
    )
    return attributions.detach().numpy()[0, 0]
