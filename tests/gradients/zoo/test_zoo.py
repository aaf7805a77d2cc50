"""The model zoo against torch autograd on the original timm modules (issue 11).

For every entry of architectures.ZOO, on a batch of 2 with a different target per sample:
the logits, the input gradient and the default CAM layer's activation and gradient equal
torch autograd's, and the guided-backprop and deconvnet maps equal Captum's, within 1e-4 of
the reference's largest magnitude. Kinks are taken on the ONNX forward's side (aligned.py).
"""

from __future__ import annotations

import pytest

from app.gradients import ReluRule
from tests.gradients.reference import relative_error
from tests.gradients.zoo.architectures import ZOO
from tests.gradients.zoo.explained import batch, run_captum, run_engine, run_torch

TOLERANCE = 1e-4
KEYS = [arch.key for arch in ZOO]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("key", KEYS)
def test_zoo_gradients_and_cam_layer_match_torch_autograd(key):
    image, seed = batch(key)
    ours, values = run_engine(key, image, seed, ReluRule.GRADIENT)
    reference = run_torch(key, image, seed, ours, values)
    assert relative_error(ours.logits, reference.logits) <= TOLERANCE
    assert relative_error(ours.input_grad, reference.input_grad) <= TOLERANCE
    if reference.layer_act is not None:
        assert relative_error(ours.layer_act, reference.layer_act) <= TOLERANCE
        assert relative_error(ours.layer_grad, reference.layer_grad) <= TOLERANCE


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("rule", [ReluRule.GUIDED, ReluRule.DECONVNET], ids=["guided", "deconvnet"])
def test_zoo_guided_backprop_and_deconvnet_match_captum(key, rule):
    image, seed = batch(key)
    ours, values = run_engine(key, image, seed, rule)
    assert relative_error(ours.input_grad, run_captum(key, image, seed, rule, values)) <= TOLERANCE
