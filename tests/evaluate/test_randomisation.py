"""The randomisation cascade: which layers count, from the top down; weights re-drawn as
torch initialises them (fan-in from torch's own rule); each step keeps the earlier steps'
draws; the randomised copy loads as a model of its own; and the similarity of two maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx import numpy_helper

from app.evaluate.cascade_phase import similarity
from app.evaluate.randomisation import cascade, learnt_layers, randomised_graph, randomised_model
from tests.evaluate.conftest import shipped, tiny_rgb


def weights(graph) -> dict[str, np.ndarray]:
    return {init.name: numpy_helper.to_array(init) for init in graph.graph.initializer}


def test_the_learnt_layers_run_from_the_output_down():
    names = [layer.name for layer in learnt_layers(shipped("mnist_cnn").graph)]
    assert names == ["/dense2/Gemm", "/dense1/Gemm", "/conv2/Conv", "/conv1/Conv"]


def test_fan_in_follows_torchs_rule_for_convolutions_and_dense_layers():
    gemm, conv = learnt_layers(tiny_rgb().graph)
    fan_in = torch.nn.init._calculate_fan_in_and_fan_out
    assert conv.fan_in == fan_in(torch.empty(8, 3, 3, 3))[0] == 27
    assert gemm.fan_in == fan_in(torch.empty(4, 8))[0] == 8  # Gemm with transB: (out, in)
    assert (conv.weight, conv.bias, gemm.weight, gemm.bias) == ("conv_w", "conv_b", "fc_w", "fc_b")


def test_the_cascade_goes_from_the_top_layer_to_all_layers():
    layers = learnt_layers(shipped("cifar_resnet").graph)  # 9 layers
    assert [len(step) for step in cascade(layers, 3)] == [1, 5, 9]
    assert [len(step) for step in cascade(layers, 1)] == [1]
    assert [len(step) for step in cascade(layers[:2], 5)] == [1, 2]


def test_re_drawn_weights_lie_within_torchs_bound_and_the_rest_is_kept():
    model = tiny_rgb()
    gemm, conv = learnt_layers(model.graph)
    before = weights(model.graph)
    top = weights(randomised_graph(model.graph, [gemm], seed=3))
    both = weights(randomised_graph(model.graph, [gemm, conv], seed=3))
    np.testing.assert_array_equal(top["conv_w"], before["conv_w"])
    assert not np.allclose(top["fc_w"], before["fc_w"])
    assert (
        np.abs(top["fc_w"]).max() <= 1 / np.sqrt(8) and np.abs(both["conv_w"]).max() <= 1 / 27**0.5
    )
    np.testing.assert_array_equal(both["fc_w"], top["fc_w"])  # the cascade keeps its draws
    np.testing.assert_array_equal(weights(model.graph)["fc_w"], before["fc_w"])  # a copy


def test_a_randomised_copy_runs_as_a_model_of_its_own():
    model = tiny_rgb()
    copy = randomised_model(model, learnt_layers(model.graph)[:1], seed=0)
    batch = np.zeros((2, 3, 16, 16), dtype=np.float32) + 0.3
    assert copy.engine.available and copy.layers.cam_layer == model.layers.cam_layer
    assert not np.allclose(copy.logits(batch), model.logits(batch))


def test_similarity_is_the_rank_correlation_of_absolute_maps():
    trained = np.array([[1.0, -3.0], [2.0, 0.5]])
    assert similarity(trained, -trained) == pytest.approx(1.0)
    assert similarity(trained, np.zeros((2, 2))) == 0.0  # a map that died shares no ranking
    assert similarity(np.ones((2, 2)), np.zeros((2, 2))) is None
