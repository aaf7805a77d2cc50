"""Loading a state dict into a module by name, strictly: every key of the file is used, every
parameter and buffer of the module is given, and every shape is equal. Anything else is
refused with the list of what did not fit (torch's own strict loading stops at the first
shape and says nothing of a dtype)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn


class WeightLoadError(ValueError):
    """The weights do not fit the architecture; the message lists every mismatch."""


def mismatches(model: nn.Module, state: Mapping[str, Tensor]) -> list[str]:
    """What stops `state` from loading into `model` exactly, one problem a line (none: fits)."""
    expected = model.state_dict()
    problems = [f"missing: {key}" for key in expected if key not in state]
    problems += [f"unused: {key}" for key in state if key not in expected]
    for key, tensor in expected.items():
        given = state.get(key)
        if given is None:
            continue
        if tuple(given.shape) != tuple(tensor.shape):
            problems.append(
                f"shape of {key}: the file has {tuple(given.shape)}, "
                f"the model {tuple(tensor.shape)}"
            )
        elif given.dtype.is_floating_point != tensor.dtype.is_floating_point:
            problems.append(f"dtype of {key}: the file has {given.dtype}, the model {tensor.dtype}")
    return problems


def load_strict(model: nn.Module, state: Mapping[str, Tensor]) -> nn.Module:
    """Copy `state` into `model` by name after checking that it fits exactly; returns the model."""
    problems = mismatches(model, state)
    if problems:
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise WeightLoadError(
            f"{len(problems)} mismatches between weights and model: "
            + "; ".join(problems[:10])
            + more
        )
    model.load_state_dict(dict(state), strict=True)
    return model


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """A state dict saved with torch.save, read without running pickled code."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise WeightLoadError(f"{path.name} does not hold a state dict of tensors")
    return dict(state)
