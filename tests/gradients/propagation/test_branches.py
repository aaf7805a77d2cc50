"""The propagation input picks the backward pass: 0 gives the gradient exactly as the graph's
gradient pass does, and a variant with an op it has no rule for is refused, the others not."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from app.gradients import ExplainSession, build_explain_graph
from app.gradients.propagation import Propagation, PropagationRule
from tests.explain.propagation_reference import onnx_of
from tests.nets import export_onnx, make_net


def _session(model) -> ExplainSession:
    graph = build_explain_graph(model, rules=True)
    return ExplainSession(graph, ort.InferenceSession(graph.model.SerializeToString()))


def test_propagation_zero_gives_torch_autograds_gradient():
    net = make_net("resnet_tiny")
    session = _session(export_onnx(net))
    image = np.random.default_rng(0).normal(size=(2, *net.input_shape)).astype(np.float32)
    seed = np.eye(10, dtype=np.float32)[[1, 4]]
    ours = session.run(image, seed, propagation=PropagationRule(Propagation.GRADIENT))
    x = torch.from_numpy(image).requires_grad_()
    (expected,) = torch.autograd.grad((net(x) * torch.from_numpy(seed)).sum(), x)
    np.testing.assert_allclose(ours.input_grad, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_a_variant_without_a_rule_for_an_op_is_refused_and_the_gradient_still_works():
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Softmax(dim=1), nn.Linear(64, 3)
    )
    model = onnx_of(net, (1, 6, 6))
    graph = build_explain_graph(model, rules=True)
    assert set(graph.refusals) == {
        Propagation.LRP_EPSILON, Propagation.LRP_COMPOSITE, Propagation.DEEPLIFT_RESCALE,
    }  # fmt: skip
    assert all("Softmax" in reason for reason in graph.refusals.values())
    session = ExplainSession(graph, ort.InferenceSession(graph.model.SerializeToString()))
    image = np.ones((1, 1, 6, 6), np.float32)
    assert np.isfinite(session.run(image, np.ones((1, 3), np.float32)).input_grad).all()


def _stored_in_branches(model: onnx.ModelProto, folder) -> list[tuple[int, ...]]:
    """The shapes of the initializers onnxruntime keeps inside the If branches of `model`'s
    explain graph, once it has optimised it as the server does."""
    graph = build_explain_graph(model, rules=True)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(folder / "optimized.onnx")
    ort.InferenceSession(graph.model.SerializeToString(), options)

    def stored(g: onnx.GraphProto) -> list[tuple[int, ...]]:
        found = []
        for node in g.node:
            for branch in (a.g for a in node.attribute if a.type == onnx.AttributeProto.GRAPH):
                found += [tuple(t.dims) for t in branch.initializer] + stored(branch)
        return found

    return stored(onnx.load(options.optimized_model_filepath).graph)


def test_onnxruntime_stores_no_weights_inside_the_variant_branches(tmp_path):
    """W+ and W- are computed on each run: folded by onnxruntime into stored copies (and NCHWc
    reorders of those) they cost 51 MiB on EfficientNet-Lite0."""
    stored = _stored_in_branches(export_onnx(make_net("lenet5")), tmp_path)
    assert sum(int(np.prod(shape)) for shape in stored) < 64


@pytest.mark.parametrize("name", ["resnet_tiny", "mobilenet_v2_tiny"])
def test_a_batch_norm_left_unfolded_is_not_fused_into_stored_weights_in_a_branch(name, tmp_path):
    """A BatchNormalization after a Conv, recomputed in the DeepLIFT branch, was fused by
    onnxruntime into stored copies of the conv's weights; now a branch keeps per-channel
    vectors at most (BatchNormalization's gradient rule reshapes its factor)."""
    model = export_onnx(make_net(name))
    assert any(node.op_type == "BatchNormalization" for node in model.graph.node)
    stored = _stored_in_branches(model, tmp_path)
    assert all(sum(dim > 1 for dim in shape) <= 1 for shape in stored), stored
