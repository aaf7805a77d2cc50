"""LRP equals Captum's LRP (epsilon rule) and Zennit's EpsilonGammaBox (composite), on the
shipped EfficientNet-Lite0 too (and its epsilon rule Zennit's), and splits relevance at a
residual Add as a hand-worked case says (where Captum does not, Captum #546).

Captum's LRP is no reference on EfficientNet-Lite0 by design: it hands a residual Add's whole
relevance to both branches (the hand-worked test below), and it has no rule for ReLU6 (only
ReLU, Dropout and Tanh pass relevance); Zennit's Sum and Pass are the rules ours follows there.
Tolerance on it: 1e-3 of the largest relevance, float32 through 49 convolutions and 9
residual Adds, Zennit's BatchNorms folded by torch and ours by the exporter (seen: 8e-5 for
the composite, 2e-4 for the epsilon rule)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr as captum_attr
from captum.attr._utils.lrp_rules import EpsilonRule
from torch import nn

from app.errors import GradientsUnsupportedError
from app.explain.lrp import LRP, LRPParams, input_bounds
from tests.explain.conftest import shipped_case
from tests.explain.propagation_reference import (
    Pass,
    Sum,
    captum_lrp_net,
    exported,
    given_for,
    pretrained_lite0,
    zennit_epsilon_relevance,
    zennit_lite0,
    zennit_relevance,
)
from tests.gradients.reference import relative_error


def test_lrp_epsilon_equals_captum_on_the_shipped_mnist_cnn():
    case = shipped_case("mnist_cnn")
    for target in (3, 8):
        params = LRPParams(rules="epsilon", epsilon=1e-3)
        ours = LRP().explain(case.given([target]), params)
        twin = captum_lrp_net(case.net, lambda: EpsilonRule(epsilon=1e-3))
        reference = captum_attr.LRP(twin).attribute(case.tensor(), target=target).detach().numpy()
        assert relative_error(ours.attributions[0], reference[0]) <= 1e-4


def test_lrp_composite_equals_zennit_epsilon_gamma_box_on_the_shipped_mnist_cnn():
    case = shipped_case("mnist_cnn")
    given = case.given([3])
    low, high = input_bounds(given)
    ours = LRP().explain(given, LRPParams(epsilon=0.01, gamma=0.25))
    reference = zennit_relevance(case.net, case.image, 3, low, high, 0.01, 0.25)
    assert relative_error(ours.attributions[0], reference[0]) <= 1e-4


def _residual_sums(net: nn.Module) -> None:
    """cifar_resnet's `x + f(x)` as Zennit's Sum module, which its composites know."""
    for module in net.modules():
        if type(module).__name__ == "Residual":
            module.sum = Sum()
            module.forward = lambda x, m=module: m.sum(torch.stack([x, m.unit2(m.unit1(x))], -1))


def test_lrp_composite_equals_zennit_on_the_shipped_cifar_resnet_with_its_residual_adds():
    case = shipped_case("cifar_resnet")
    given = case.given([3])
    low, high = input_bounds(given)
    ours = LRP().explain(given, LRPParams(epsilon=0.01, gamma=0.25))
    _residual_sums(case.net)
    scale = type(case.net.get_submodule("scale"))  # relevance passes a constant scaling
    reference = zennit_relevance(
        case.net, case.image, 3, low, high, 0.01, 0.25, layer_map=[(scale, Pass())]
    )
    assert relative_error(ours.attributions[0], reference[0]) <= 1e-3


LITE0_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def zennit_ready_lite0() -> nn.Module:
    return zennit_lite0(pretrained_lite0())


def test_lrp_composite_equals_zennit_on_the_shipped_efficientnet_lite0(
    photo_input, zennit_ready_lite0
):
    low, high = input_bounds(photo_input)
    ours = LRP().explain(photo_input, LRPParams(epsilon=0.01, gamma=0.25))
    reference = zennit_relevance(zennit_ready_lite0, photo_input.image, 281, low, high, 0.01, 0.25)
    assert relative_error(ours.attributions[0], reference[0]) <= LITE0_TOLERANCE
    assert ours.extras["relevance_sum"][0] == pytest.approx(float(reference.sum()), rel=1e-3)


def test_lrp_epsilon_equals_zennit_epsilon_rules_on_the_shipped_efficientnet_lite0(
    photo_input, zennit_ready_lite0
):
    ours = LRP().explain(photo_input, LRPParams(rules="epsilon", epsilon=0.01))
    reference = zennit_epsilon_relevance(zennit_ready_lite0, photo_input.image, 281, 0.01)
    assert relative_error(ours.attributions[0], reference[0]) <= LITE0_TOLERANCE


class TinyResidual(nn.Module):
    """logits = W2 (x + relu(W1 x + b1)) on a (3, 1, 1) input: small enough to work
    LRP-epsilon out by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.inner, self.relu, self.head = nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2, bias=False)
        generator = torch.Generator().manual_seed(0)
        for layer in (self.inner, self.head):
            for parameter in layer.parameters():
                parameter.data = torch.randn(parameter.shape, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        return self.head(x + self.relu(self.inner(x)))


def _stabilized(z: np.ndarray, epsilon: float) -> np.ndarray:
    return z + epsilon * np.where(z >= 0, 1.0, -1.0)


def test_lrp_epsilon_splits_relevance_at_a_residual_add_in_proportion_to_each_branch():
    net, epsilon, target = TinyResidual(), 0.01, 1
    x = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    w1, b1 = net.inner.weight.detach().numpy(), net.inner.bias.detach().numpy()
    w2 = net.head.weight.detach().numpy()
    pre = x @ w1.T + b1
    h = np.maximum(pre, 0)
    z = x + h
    logits = z @ w2.T
    relevance_out = np.zeros_like(logits)
    relevance_out[0, target] = logits[0, target]
    relevance_z = z * ((relevance_out / _stabilized(logits, epsilon)) @ w2)  # the head
    share = relevance_z / _stabilized(z, epsilon)  # the Add: each branch its part
    relevance_skip, relevance_h = x * share, h * share
    relevance_branch = x * ((relevance_h / _stabilized(pre, epsilon)) @ w1)  # ReLU passes
    expected = relevance_skip + relevance_branch
    ours = LRP().explain(
        given_for(exported(net, (3, 1, 1)), x.reshape(1, 3, 1, 1), target),
        LRPParams(rules="epsilon", epsilon=epsilon),
    )
    np.testing.assert_allclose(ours.attributions.reshape(1, 3), expected, rtol=1e-5, atol=1e-6)


def test_captum_lrp_hands_the_whole_relevance_to_both_branches_of_a_residual_add():
    """Why Captum is no reference on residual nets (Captum #546): its relevance at the input
    sums to more than the logit, ours to the logit (less what the bias absorbs)."""
    net, x, target = TinyResidual(), np.array([[0.5, -1.0, 2.0]], dtype=np.float32), 1
    net.inner.rule, net.head.rule = EpsilonRule(1e-9), EpsilonRule(1e-9)
    theirs = (
        captum_attr.LRP(net)
        .attribute(torch.from_numpy(x.reshape(1, 3, 1, 1)), target=target)
        .detach()
        .numpy()
    )
    ours = LRP().explain(
        given_for(exported(net, (3, 1, 1)), x.reshape(1, 3, 1, 1), target),
        LRPParams(rules="epsilon", epsilon=1e-9),
    )
    assert relative_error(ours.attributions.reshape(1, 3), theirs.reshape(1, 3)) > 0.01
    logit = float(net(torch.from_numpy(x.reshape(1, 3, 1, 1))).detach()[0, target])
    inner_bias_share = ours.extras["relevance_sum"][0] - logit  # only the bias absorbs
    assert abs(inner_bias_share) < abs(logit)


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


def test_lrp_on_a_model_with_an_op_it_has_no_rule_for_is_refused():
    net = nn.Sequential(nn.Flatten(), nn.Linear(3, 3), Swish(), nn.Linear(3, 2))
    model = exported(net, (3, 1, 1))
    assert model.engine.available  # the gradient methods still work
    assert not LRP().supports(model)
    given = given_for(model, np.ones((1, 3, 1, 1), np.float32), 0)
    with pytest.raises(GradientsUnsupportedError, match="lrp_composite has no rule.*Mul"):
        LRP().explain(given, LRPParams())


def test_lrp_on_the_photo_model_stays_bounded_on_its_signed_convolution_inputs(photo_input):
    """The generalised gamma rule's denominators are at least |z|: no blow-up where a conv
    reads the signed output of the block before (the classic rule gave 1e20 here)."""
    ours = LRP().explain(photo_input, LRPParams())
    assert np.isfinite(ours.attributions).all()
    assert abs(ours.extras["relevance_sum"][0]) <= abs(ours.extras["logit"][0])
