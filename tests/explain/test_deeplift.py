"""DeepLIFT equals Captum's DeepLift where Captum keeps its own rule (on the shipped
EfficientNet-Lite0 too, ReLU6 registered with Captum's Rescale rule), equals the Rescale and
MaxPool rules worked out with torch's functional ops where it does not, and its contributions
sum to the logit's difference from the baseline (summation-to-delta) on the shipped models,
the photo model too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import DeepLift as CaptumDeepLift
from captum.attr._core import deep_lift
from torch import nn

from app.explain.deeplift import DeepLIFT, DeepLIFTParams, make_baseline
from tests.explain.conftest import build_case, shipped_case
from tests.explain.propagation_reference import exported, given_for, pretrained_lite0
from tests.gradients.reference import relative_error


def test_deeplift_equals_captum_on_a_residual_net_with_batch_norm():
    case = build_case("resnet_tiny")
    for target in (0, 7):
        ours = DeepLIFT().explain(case.given([target]), DeepLIFTParams())
        baseline = torch.zeros_like(case.tensor())
        reference = CaptumDeepLift(case.net).attribute(case.tensor(), baseline, target=target)
        assert relative_error(ours.attributions[0], reference.detach().numpy()[0]) <= 1e-4


LITE0_TOLERANCE = 5e-4  # of the largest contribution; float32 through 49 convs (seen: 6e-5)


@pytest.fixture(scope="module")
def lite0_net() -> nn.Module:
    """The torch module, BatchNorms apart: Captum's multipliers through them, as through every
    linear op of Lite0 (no MaxPool), are the gradient, so exact."""
    return pretrained_lite0()


def captum_lite0(net: nn.Module, given, baseline: np.ndarray, relu6: bool) -> np.ndarray:
    """Captum's DeepLift on `net`. Captum applies the Rescale rule only to the module types of
    its SUPPORTED_NON_LINEAR table, where ReLU6 is not: elsewhere it keeps the gradient. With
    `relu6`, ReLU6 is registered with the table's own rule (`nonlinear`) for this run."""
    x = torch.from_numpy(given.image.copy()).requires_grad_()
    table = deep_lift.SUPPORTED_NON_LINEAR
    if relu6:
        table[nn.ReLU6] = deep_lift.nonlinear
    try:
        found = CaptumDeepLift(net).attribute(x, torch.from_numpy(baseline), target=281)
    finally:
        table.pop(nn.ReLU6, None)
    return found.detach().numpy()


@pytest.mark.parametrize("baseline", ["zeros", "black"])
def test_deeplift_equals_captum_on_the_shipped_efficientnet_lite0(photo_input, lite0_net, baseline):
    params = DeepLIFTParams(baseline=baseline)
    ours = DeepLIFT().explain(photo_input, params)
    reference = captum_lite0(lite0_net, photo_input, make_baseline(photo_input, params), True)
    assert relative_error(ours.attributions[0], reference[0]) <= LITE0_TOLERANCE


def test_captum_deeplift_keeps_the_gradient_at_relu6_unless_registered(photo_input, lite0_net):
    """Why the test above registers ReLU6: Captum's unregistered map is another method's."""
    params = DeepLIFTParams(baseline="zeros")
    ours = DeepLIFT().explain(photo_input, params)
    theirs = captum_lite0(lite0_net, photo_input, make_baseline(photo_input, params), False)
    assert relative_error(ours.attributions[0], theirs[0]) > 0.1


class PoolNet(nn.Module):
    """conv, ReLU, 2x2 max pool, dense: the case where Captum's DeepLift MaxPool goes wrong."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.relu, self.head = nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Linear(36, 3)
        self.conv.bias.data[:] = 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(F.max_pool2d(self.relu(self.conv(x)), 2), 1))


def _safe(delta: torch.Tensor) -> torch.Tensor:
    return torch.where(delta.abs() < 1e-10, torch.ones_like(delta), delta)


def _worked_deeplift(net: PoolNet, x: torch.Tensor, x0: torch.Tensor, target: int) -> np.ndarray:
    """Shrikumar et al.'s rules, layer by layer: the head's weights, MaxPool's difference split
    between the input's and the baseline's maxima, Rescale at the ReLU, the conv's gradient."""
    with torch.no_grad():
        pre, pre0 = net.conv(x), net.conv(x0)
        act, act0 = F.relu(pre), F.relu(pre0)
        y, where = F.max_pool2d(act, 2, return_indices=True)
        y0, where0 = F.max_pool2d(act0, 2, return_indices=True)
        g = net.head.weight[target].reshape(y.shape)
        top = torch.max(y, y0)
        size = act.shape[2:]
        routed = F.max_unpool2d(g * (top - y0), where, 2, output_size=size)
        routed = routed + F.max_unpool2d(g * (y - top), where0, 2, output_size=size)
        delta = act - act0
        gradient = F.max_unpool2d(g, where, 2, output_size=size)
        through_pool = torch.where(delta.abs() < 1e-10, gradient, routed / _safe(delta))
        delta_pre = pre - pre0
        rescale = torch.where(
            delta_pre.abs() < 1e-10, (pre > 0).float(), (act - act0) / _safe(delta_pre)
        )
        at_input = torch.nn.grad.conv2d_input(x.shape, net.conv.weight, through_pool * rescale)
        return ((x - x0) * at_input).numpy()


def _pool_case():
    net = PoolNet().eval()
    rng = np.random.default_rng(0)
    x, x0 = (rng.normal(size=(1, 1, 8, 8)).astype(np.float32) for _ in range(2))
    return net, x, x0


def test_deeplift_through_max_pool_equals_the_rule_worked_with_torch_functions():
    net, x, x0 = _pool_case()
    given = given_for(exported(net, (1, 8, 8)), x, 1, baseline=x0)
    ours = DeepLIFT().explain(given, DeepLIFTParams(baseline="given"))
    expected = _worked_deeplift(net, torch.from_numpy(x), torch.from_numpy(x0), 1)
    assert relative_error(ours.attributions[0], expected[0]) <= 1e-5


def test_captum_deeplift_through_max_pool_breaks_summation_to_delta_where_ours_keeps_it():
    """Why Captum is no reference through MaxPool (see Captum #1276): where the baseline's
    window maximum exceeds the input's, its contributions no longer sum to the difference."""
    net, x, x0 = _pool_case()
    delta = float((net(torch.from_numpy(x)) - net(torch.from_numpy(x0))).detach()[0, 1])
    theirs = CaptumDeepLift(net).attribute(torch.from_numpy(x), torch.from_numpy(x0), target=1)
    given = given_for(exported(net, (1, 8, 8)), x, 1, baseline=x0)
    ours = DeepLIFT().explain(given, DeepLIFTParams(baseline="given"))
    assert abs(float(theirs.detach().sum()) - delta) > 0.1 * abs(delta)
    assert abs(float(ours.attributions.sum()) - delta) <= 1e-5 * max(1.0, abs(delta))


@pytest.mark.parametrize("name", ["mnist_cnn", "cifar_resnet"])
@pytest.mark.parametrize("baseline", ["zeros", "black", "blur"])
def test_deeplift_contributions_sum_to_the_logit_difference_on_the_shipped_models(name, baseline):
    case = shipped_case(name)
    given = case.given([3])
    params = DeepLIFTParams(baseline=baseline)
    ours = DeepLIFT().explain(given, params)
    logits = case.model.logits(np.concatenate([given.image, make_baseline(given, params)]))
    delta = float(logits[0, 3] - logits[1, 3])
    assert ours.extras["logit_difference"][0] == pytest.approx(delta, rel=1e-5, abs=1e-5)
    assert abs(ours.extras["completeness_gap"][0]) <= 1e-4 * max(1.0, abs(delta))
    assert ours.attributions.sum() == pytest.approx(delta, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("baseline", ["zeros", "blur"])
def test_deeplift_on_the_photo_model_sums_to_the_logit_difference_through_its_relu6s(
    photo_input, baseline
):
    ours = DeepLIFT().explain(photo_input, DeepLIFTParams(baseline=baseline))
    delta = ours.extras["logit_difference"][0]
    assert abs(ours.extras["completeness_gap"][0]) <= 1e-4 * max(1.0, abs(delta))
