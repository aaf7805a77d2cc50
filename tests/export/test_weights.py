"""Strict loading by name: a state dict with a missing, unused or misshapen key is refused,
every problem named, and the module left as it was."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.export.weights import WeightLoadError, load_strict, mismatches, read_state_dict


def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten())


def good_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return {key: torch.rand_like(value.float()).to(value.dtype)
            for key, value in small_net().state_dict().items()}  # fmt: skip


def test_a_state_dict_that_fits_exactly_is_copied_in_by_name():
    state = good_state()
    net = load_strict(small_net(), state)
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key])


CASES = {
    "missing": (
        lambda s: {k: v for k, v in s.items() if k != "1.running_var"},
        "missing: 1.running_var",
    ),
    "unused": (lambda s: {**s, "2.weight": torch.ones(1)}, "unused: 2.weight"),
    "misshapen": (
        lambda s: {**s, "0.weight": torch.ones(4, 3, 5, 5)},
        "shape of 0.weight: the file has (4, 3, 5, 5), the model (4, 3, 3, 3)",
    ),
    "integer for float": (
        lambda s: {**s, "1.weight": torch.ones(4, dtype=torch.int64)},
        "dtype of 1.weight",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_state_dict_that_does_not_fit_is_refused_naming_the_key(case):
    spoil, message = CASES[case]
    net = small_net()
    before = {key: value.clone() for key, value in net.state_dict().items()}
    with pytest.raises(WeightLoadError, match="1 mismatches") as refused:
        load_strict(net, spoil(good_state()))
    assert message in str(refused.value)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])


def test_every_mismatch_is_listed_not_just_the_first():
    state = good_state()
    del state["0.weight"], state["1.bias"]
    state["extra"] = torch.ones(1)
    assert sorted(mismatches(small_net(), state)) == [
        "missing: 0.weight",
        "missing: 1.bias",
        "unused: extra",
    ]


def test_a_file_that_holds_no_state_dict_is_refused(tmp_path):
    torch.save([torch.ones(1)], tmp_path / "list.pth")
    with pytest.raises(WeightLoadError, match="does not hold a state dict"):
        read_state_dict(tmp_path / "list.pth")
    torch.save(good_state(), tmp_path / "good.pth")
    assert sorted(read_state_dict(tmp_path / "good.pth")) == sorted(good_state())
