"""Guided backpropagation equals Captum's GuidedBackprop, and says when, on a model without a
ReLU, its map is the saliency map."""

from __future__ import annotations

import numpy as np
from captum.attr import GuidedBackprop as CaptumGuidedBackprop

from app.explain.guided_backprop import GuidedBackprop
from app.explain.saliency import Saliency
from tests.gradients.reference import relative_error


def test_guided_backprop_equals_captum(case):
    for target in (0, 7):
        ours = GuidedBackprop().explain(case.given([target]), GuidedBackprop.Params())
        reference = CaptumGuidedBackprop(case.net).attribute(case.tensor(), target=target)
        assert relative_error(ours.attributions[0], reference.detach().numpy()[0]) <= 1e-4


def test_guided_backprop_on_a_model_without_relu_says_its_map_is_the_saliency_map(photo_input):
    """EfficientNet-Lite0 has ReLU6 (Clip) only, which the rule leaves, as Captum does."""
    ours = GuidedBackprop().explain(photo_input, GuidedBackprop.Params())
    plain = Saliency().explain(photo_input, Saliency.Params())
    np.testing.assert_array_equal(ours.attributions, plain.attributions)
    assert ours.extras == {
        "relus_with_the_rule": 0,
        "activations_with_their_gradient": {"Clip": 33},
        "same_as_saliency": True,
    }


def test_guided_backprop_counts_the_relus_it_changes(case):
    ours = GuidedBackprop().explain(case.given([0]), GuidedBackprop.Params())
    relus = sum(node.op_type == "Relu" for node in case.model.graph.graph.node)
    assert ours.extras["relus_with_the_rule"] == relus > 0
    assert ours.extras["same_as_saliency"] is False
