"""Whole zoo networks: logits, input and layer gradients vs torch; guided/deconvnet vs Captum."""

import functools
import warnings

import numpy as np
import pytest
import torch
from captum.attr import Deconvolution, GuidedBackprop
from torch import nn

from app.gradients import ExplainSession, ReluRule, build_explain_graph
from tests.gradients.reference import TOLERANCE, Seeded, relative_error
from tests.gradients.sessions import explain_session
from tests.nets import ZOO, export_onnx, make_net, onnx_tensor_of

ROWS = [(name, batch) for name in ZOO for batch in (1, 3)]


@functools.cache
def explained(name: str, rules: bool = False):
    """(torch net, explain session, ONNX name of its CAM layer), built once per net: the graph
    without rules for the gradient (as the engine runs it), with them for the ReLU rules."""
    net = make_net(name)
    model = export_onnx(net)
    layer = onnx_tensor_of(model, net.cam_layer)
    return net, explain_session(build_explain_graph(model, [layer], rules=rules)), layer


def sample(net: nn.Module, batch: int, row_seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(row_seed)
    image = rng.standard_normal((batch, *net.input_shape)).astype(np.float32)
    return image, rng.standard_normal((batch, 10)).astype(np.float32)


def torch_gradients(net: nn.Module, image: np.ndarray, seed: np.ndarray):
    """(logits, input gradient, CAM-layer activation, CAM-layer gradient) by autograd."""
    captured = {}
    layer = net.get_submodule(net.cam_layer)
    hook = layer.register_forward_hook(lambda m, i, out: captured.update(act=out))
    x = torch.tensor(image, requires_grad=True)
    try:
        logits = net(x)
        captured["act"].retain_grad()
        (logits * torch.tensor(seed)).sum().backward()
    finally:
        hook.remove()
    act = captured["act"]
    return logits.detach().numpy(), x.grad.numpy(), act.detach().numpy(), act.grad.numpy()


@pytest.mark.parametrize(("name", "batch"), ROWS)
def test_network_gradients_match_torch_autograd(name, batch):
    net, session, layer = explained(name)
    image, seed = sample(net, batch, row_seed=batch * 31 + len(name))
    logits, input_grad, act, act_grad = torch_gradients(net, image, seed)
    result = session.run(image, seed, ReluRule.GRADIENT)
    assert relative_error(result.logits, logits) <= TOLERANCE
    assert relative_error(result.input_grad, input_grad) <= TOLERANCE
    assert relative_error(result.activations[layer], act) <= TOLERANCE
    assert relative_error(result.gradients[layer], act_grad) <= TOLERANCE


@pytest.mark.parametrize(("name", "batch"), ROWS)
@pytest.mark.parametrize(
    ("rule", "method"),
    [(ReluRule.GUIDED, GuidedBackprop), (ReluRule.DECONVNET, Deconvolution)],
    ids=["guided_backprop", "deconvnet"],
)
def test_network_relu_rules_match_captum(name, batch, rule, method):
    net, session, _ = explained(name, rules=True)
    image, seed = sample(net, batch, row_seed=batch * 17 + len(name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attribution = method(Seeded(net, seed)).attribute(torch.tensor(image), target=0)
    result = session.run(image, seed, rule)
    assert relative_error(result.input_grad, attribution.detach().numpy()) <= TOLERANCE


def test_network_from_the_dynamo_exporter_matches_torch_autograd():
    net = make_net("resnet_tiny", seed=5)
    session = explain_session(build_explain_graph(export_onnx(net, opset=18, dynamo=True)))
    for batch in (1, 3):
        image, seed = sample(net, batch, row_seed=batch)
        logits, input_grad, _, _ = torch_gradients(net, image, seed)
        result = session.run(image, seed)
        assert relative_error(result.logits, logits) <= TOLERANCE
        assert relative_error(result.input_grad, input_grad) <= TOLERANCE


@pytest.mark.parametrize("opset", [13, 20])
def test_network_exported_at_other_opsets_matches_torch_autograd(opset):
    net = make_net("inception_tiny", seed=3)
    session = explain_session(build_explain_graph(export_onnx(net, opset=opset)))
    image, seed = sample(net, 2, row_seed=opset)
    _, input_grad, _, _ = torch_gradients(net, image, seed)
    assert relative_error(session.run(image, seed).input_grad, input_grad) <= TOLERANCE


@functools.cache
def explained_to_layer(name: str) -> ExplainSession:
    """The net's explain session with input_gradient=False: backward stops at the CAM layer."""
    net, _, layer = explained(name)
    return explain_session(build_explain_graph(export_onnx(net), [layer], input_gradient=False))


@pytest.mark.parametrize("name", ZOO)
def test_a_graph_without_input_gradient_gives_the_same_layer_gradients(name):
    net, _, layer = explained(name)
    image, seed = sample(net, 2, row_seed=7)
    logits, _, act, act_grad = torch_gradients(net, image, seed)
    result = explained_to_layer(name).run(image, seed, ReluRule.GRADIENT)
    assert result.input_grad is None
    assert relative_error(result.logits, logits) <= TOLERANCE
    assert relative_error(result.activations[layer], act) <= TOLERANCE
    assert relative_error(result.gradients[layer], act_grad) <= TOLERANCE
