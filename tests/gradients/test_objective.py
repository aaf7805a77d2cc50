"""An objective at a layer: the backward pass starts at that tensor, seeded like it."""

import numpy as np
import pytest
import torch

from app.gradients import build_explain_graph
from tests.gradients.reference import TOLERANCE, relative_error
from tests.gradients.sessions import explain_session
from tests.nets import export_onnx, make_net, onnx_tensor_of

ROWS = [("mnist_cnn", "features.3"), ("resnet_tiny", "layer1.relu2"), ("lenet5", "features.1")]


def torch_layer_gradient(net, module: str, image: np.ndarray, seed_rng: int = 5):
    """(layer activation, seed, d sum(seed * activation) / d image) by torch autograd."""
    captured = {}
    hook = net.get_submodule(module).register_forward_hook(lambda m, i, o: captured.update(a=o))
    x = torch.tensor(image, requires_grad=True)
    try:
        net(x)
    finally:
        hook.remove()
    act = captured["a"]
    seed = np.random.default_rng(seed_rng).standard_normal(tuple(act.shape)).astype(np.float32)
    (act * torch.tensor(seed)).sum().backward()
    return act.detach().numpy(), seed, x.grad.numpy()


@pytest.mark.parametrize(("name", "module"), ROWS)
def test_the_input_gradient_of_a_layer_objective_equals_torch(name, module):
    net = make_net(name)
    model = export_onnx(net)
    layer = onnx_tensor_of(model, module)
    image = np.random.default_rng(0).standard_normal((2, *net.input_shape)).astype(np.float32)
    act, seed, expected = torch_layer_gradient(net, module, image)
    graph = build_explain_graph(model, [layer], objective=layer)
    result = explain_session(graph).run(image, seed)
    assert relative_error(result.activations[layer], act) <= TOLERANCE
    assert relative_error(result.input_grad, expected) <= TOLERANCE
    assert result.logits.shape == (2, 10)


def test_a_layer_objective_seeds_the_layer_and_leaves_later_layers_at_zero():
    net = make_net("mnist_cnn")
    model = export_onnx(net)
    early, late = onnx_tensor_of(model, "features.1"), onnx_tensor_of(model, "features.3")
    image = np.random.default_rng(1).standard_normal((1, 1, 28, 28)).astype(np.float32)
    seed = np.random.default_rng(2).standard_normal((1, 32, 26, 26)).astype(np.float32)
    result = explain_session(build_explain_graph(model, [early, late], objective=early)).run(
        image, seed
    )
    assert np.array_equal(result.gradients[early], seed)
    assert not result.gradients[late].any()


def test_an_unknown_objective_is_refused():
    with pytest.raises(ValueError, match="not a tensor"):
        build_explain_graph(export_onnx(make_net("lenet5")), objective="no_such_tensor")
