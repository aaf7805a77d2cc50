"""The network from a layer on: a cut graph that takes the layer's activation (and the tensors
before it that a residual branch carries past it) and gives the logits."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from app.errors import UnknownLayerError
from app.runtime.loader import LoadOptions, load_store
from app.runtime.sessions import SessionFactory
from app.runtime.tails import cut_at
from tests.conftest import SHIPPED_STORE
from tests.explain.conftest import build_case
from tests.nets import onnx_tensor_of


def _logits_with_layer_replaced(case, module_path: str, value: np.ndarray) -> np.ndarray:
    """Torch's logits when the module's output is replaced by `value` (a forward hook)."""
    module = case.net.get_submodule(module_path)
    handle = module.register_forward_hook(lambda _m, _i, _o: torch.from_numpy(value))
    try:
        with torch.no_grad():
            batch = np.repeat(case.image, len(value), axis=0)
            return case.net(torch.from_numpy(batch)).numpy()
    finally:
        handle.remove()


@pytest.mark.parametrize(
    ("net", "module_path", "reads_upstream"),
    [
        ("resnet_tiny", "layer2.relu2", False),  # the CAM layer: nothing skips past it
        ("resnet_tiny", "layer2.relu1", True),  # inside a block: the shortcut skips past it
        ("mobilenet_v2_tiny", "blocks.2.block.2", True),  # inside an inverted residual
        ("inception_tiny", "block.b3.3", True),  # one branch of a concatenation
    ],
)
def test_the_tail_on_changed_activations_equals_torch_with_the_layer_output_replaced(
    net, module_path, reads_upstream
):
    case = build_case(net)
    layer = onnx_tensor_of(case.model.graph, module_path)
    upstream = case.model.tails.upstream(layer)
    assert bool(upstream) == reads_upstream
    _, tapped = case.model.taps.run(case.image, (layer, *upstream))
    activation = tapped[layer]  # (1, C, h, w)
    rng = np.random.default_rng(0)
    changed = (activation * rng.uniform(0, 2, (3, *activation.shape[1:]))).astype(np.float32)
    ours = case.model.tails.run(layer, changed, {name: tapped[name] for name in upstream})
    reference = _logits_with_layer_replaced(case, module_path, changed)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4)


def test_the_tail_of_the_shipped_cifar_resnet_keeps_its_constant_scale():
    model = load_store(SHIPPED_STORE, LoadOptions(SessionFactory(1))).get("cifar_resnet")
    image = np.random.default_rng(1).normal(0, 1, (2, 3, 32, 32)).astype(np.float32)
    for layer in ("/layer3/residual/Add_output_0", "/layer3/residual/unit1/relu/Relu_output_0"):
        upstream = model.tails.upstream(layer)
        logits, tapped = model.taps.run(image[:1], (layer, *upstream))
        ours = model.tails.run(layer, tapped[layer], {name: tapped[name] for name in upstream})
        np.testing.assert_allclose(ours, logits, rtol=1e-5, atol=1e-5)
    kept = {node.op_type for node in cut_at(model.graph, "/layer3/residual/Add_output_0")
            .model.graph.node}  # fmt: skip
    assert kept == {"MaxPool", "Flatten", "Gemm", "Constant", "Mul"}


def test_a_tail_session_is_built_once_per_layer_in_the_model_cache():
    case = build_case("resnet_tiny", seed=5)  # a model no other test has used
    layer = case.layer_tensor
    for _ in range(2):
        case.model.tails.upstream(layer)
    assert [key for key in case.model.tails.cache if key[0] == "tail"] == [("tail", layer)]


def test_a_layer_the_output_does_not_depend_on_or_that_does_not_exist_is_refused():
    case = build_case("mnist_cnn")
    with pytest.raises(UnknownLayerError, match="No layer"):
        cut_at(case.model.graph, "no_such_tensor")
    model = onnx.ModelProto()
    model.CopyFrom(case.model.graph)
    dead_end = onnx.helper.make_node("Neg", ["input"], ["unused"])
    model.graph.node.append(dead_end)
    with pytest.raises(UnknownLayerError, match="does not depend"):
        cut_at(model, "unused")
