"""The explain graph as a whole: interface, dynamic batch, layers, unsupported ops, registry."""

import pkgutil

import numpy as np
import onnx
import pytest
import torch
from onnx import helper
from torch import nn

import app.gradients.ops
from app.gradients import (
    UnsupportedOpError,
    build_explain_graph,
    gradient_nodes,
    supported_ops,
    unsupported_ops,
)
from app.gradients.ops import BACKWARD_RULES
from tests.gradients.reference import (
    TOLERANCE,
    assert_gradient_matches,
    constant,
    op_model,
    random_input,
    relative_error,
)
from tests.gradients.sessions import explain_session
from tests.nets import export_onnx, make_net


def _odd_op_model(op: str = "Atan") -> onnx.ModelProto:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node(op, ["r"], ["e"], name="the_odd_one"),
        helper.make_node("Gemm", ["e", "w"], ["y"], name="head"),
    ]
    return op_model(nodes, ["N", 4], {"w": constant((4, 3))})


@pytest.mark.parametrize("op", ["Atan", "LpNormalization"])
def test_an_op_without_rule_on_the_path_raises_naming_op_and_node(op):
    with pytest.raises(UnsupportedOpError, match=f"no backward rule for op '{op}'") as caught:
        build_explain_graph(_odd_op_model(op))
    assert (caught.value.op_type, caught.value.node_name) == (op, "the_odd_one")
    assert "(node 'the_odd_one')" in str(caught.value)


def test_unsupported_ops_lists_the_nodes_without_rule():
    assert unsupported_ops(_odd_op_model()) == [("Atan", "the_odd_one")]
    assert unsupported_ops(export_onnx(make_net("lenet5"))) == []


def test_supported_ops_are_the_registry_keys():
    assert supported_ops() == frozenset(BACKWARD_RULES)
    assert {"Conv", "Relu", "MaxPool", "Gemm", "BatchNormalization"} <= supported_ops()


def test_every_rule_module_is_in_the_registry():
    modules = {info.name for info in pkgutil.iter_modules(app.gradients.ops.__path__)}
    registered = {rule.__module__.rsplit(".", 1)[-1] for rule in BACKWARD_RULES.values()}
    assert modules == registered


def test_an_op_without_rule_off_the_gradient_path_is_ignored():
    nodes = [
        helper.make_node("Atan", ["w"], ["w_atan"], name="weights_only"),
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Mul", ["x", "w_atan"], ["m"]),
        helper.make_node("Reshape", ["m", "s"], ["y"]),
    ]
    model = op_model(nodes, ["N", 4], {"w": constant((4,))})
    w = torch.atan(torch.tensor(constant((4,)), dtype=torch.float64))
    assert_gradient_matches(model, lambda x: x * w, random_input((3, 4)))


def test_a_weight_fed_by_the_input_is_refused_naming_the_input():
    nodes = [helper.make_node("Conv", ["x", "x"], ["y"], name="self_conv")]
    with pytest.raises(UnsupportedOpError, match="self_conv.*input 1"):
        build_explain_graph(op_model(nodes, [1, 1, 3, 3]))


def test_the_same_explain_graph_runs_on_batch_1_and_batch_5():
    net = make_net("resnet_tiny", seed=1)
    session = explain_session(build_explain_graph(export_onnx(net)))
    image, seed = random_input((5, 3, 16, 16)), random_input((5, 10), seed=4)
    batched = session.run(image, seed).input_grad
    singles = np.concatenate(
        [session.run(image[i : i + 1], seed[i : i + 1]).input_grad for i in range(5)]
    )
    assert batched.shape == image.shape
    assert relative_error(batched, singles) <= TOLERANCE


def test_explain_graph_interface_keeps_the_batch_axis_symbolic():
    net = make_net("lenet5")
    model = export_onnx(net)
    layer = "/features/features.4/Relu_output_0"
    eg = build_explain_graph(model, [layer])
    onnx.checker.check_model(eg.model)
    inputs = {v.name: v for v in eg.model.graph.input}
    outputs = [v.name for v in eg.model.graph.output]
    assert eg.input_name == "input" and {"input", "seed"} <= set(inputs)
    assert outputs == ["logits", "input_grad", f"act:{layer}", f"grad:{layer}"]
    assert inputs["seed"].type.tensor_type.shape.dim[0].dim_param == "N"
    assert eg.layer_outputs[layer].gradient == f"grad:{layer}"
    assert eg.build_seconds > 0
    assert all(n.domain in ("", "ai.onnx") for n in eg.model.graph.node)


def test_building_leaves_the_model_untouched():
    model = export_onnx(make_net("lenet5"))
    before = model.SerializeToString()
    build_explain_graph(model, ["/features/features.4/Relu_output_0"])
    assert model.SerializeToString() == before


def test_an_unknown_layer_name_is_refused():
    with pytest.raises(ValueError, match="not a tensor"):
        build_explain_graph(export_onnx(make_net("lenet5")), ["no_such_tensor"])


def test_a_layer_feeding_several_nodes_gets_the_sum_of_their_gradients():
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Mul", ["r", "two"], ["a"]),
        helper.make_node("Sigmoid", ["r"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    model = op_model(nodes, ["N", 6], {"two": np.float32(2.0)})
    x, seed = random_input((3, 6)), random_input((3, 6), seed=2)
    result = explain_session(build_explain_graph(model, ["r"])).run(x, seed)
    r = np.maximum(x, 0)
    sigmoid = 1 / (1 + np.exp(-r))
    expected = seed * (2 + sigmoid * (1 - sigmoid))
    assert relative_error(result.gradients["r"], expected) <= TOLERANCE
    assert relative_error(result.activations["r"], r) <= TOLERANCE


class ChannelsLast(nn.Module):
    """An NHWC model: a leading permute to NCHW, then a small CNN."""

    input_shape = (12, 12, 3)

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(400, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.permute(0, 3, 1, 2))


def test_a_channels_last_model_gets_a_channels_last_input_gradient():
    torch.manual_seed(0)
    net = ChannelsLast().eval()
    session = explain_session(build_explain_graph(export_onnx(net)))
    image, seed = random_input((2, 12, 12, 3)), random_input((2, 10), seed=1)
    x = torch.tensor(image, requires_grad=True)
    (net(x) * torch.tensor(seed)).sum().backward()
    assert relative_error(session.run(image, seed).input_grad, x.grad.numpy()) <= TOLERANCE


@pytest.mark.parametrize("opset", [13, 16, 18, 21])
def test_a_small_cnn_graph_of_any_supported_opset_matches_torch(opset):
    w, fc = constant((4, 2, 3, 3)), constant((3, 36), seed=2)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[2, 2], strides=[1, 1]),
        helper.make_node("Flatten", ["a"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1),
    ]
    model = op_model(nodes, ["N", 2, 8, 8], {"w": w, "fc": fc}, opset=opset)

    def reference(x):
        c = torch.nn.functional.conv2d(x, torch.tensor(w, dtype=x.dtype), padding=1)
        p = torch.nn.functional.max_pool2d(torch.relu(c), 2)
        a = torch.nn.functional.avg_pool2d(p, 2, 1)
        return a.flatten(1) @ torch.tensor(fc, dtype=x.dtype).T

    assert_gradient_matches(model, reference, random_input((2, 2, 8, 8)))


def test_without_input_gradient_the_graph_stops_at_the_layers_and_has_no_input_grad():
    model = export_onnx(make_net("lenet5"))
    layer = "/features/features.4/Relu_output_0"
    full = build_explain_graph(model, [layer])
    to_layer = build_explain_graph(model, [layer], input_gradient=False)
    outputs = [v.name for v in to_layer.model.graph.output]
    assert outputs == ["logits", f"act:{layer}", f"grad:{layer}"]
    assert to_layer.input_grad_name is None

    def transposes(graph):  # one per conv or pool whose input gradient is computed
        return sum(n.op_type == "ConvTranspose" for n in gradient_nodes(graph))

    assert len(to_layer.model.graph.node) < len(gradient_nodes(full))
    assert transposes(to_layer) == transposes(full) - 2  # not the two convs below the layer


def test_without_input_gradient_an_op_without_rule_below_the_layer_is_ignored():
    nodes = [
        helper.make_node("Atan", ["x"], ["e"], name="below_the_layer"),
        helper.make_node("Relu", ["e"], ["r"]),
        helper.make_node("Gemm", ["r", "w"], ["y"]),
    ]
    model = op_model(nodes, ["N", 4], {"w": constant((4, 3))})
    with pytest.raises(UnsupportedOpError):
        build_explain_graph(model, ["r"])
    x, seed = random_input((2, 4)), random_input((2, 3), seed=5)
    result = explain_session(build_explain_graph(model, ["r"], input_gradient=False)).run(x, seed)
    assert result.input_grad is None
    assert relative_error(result.gradients["r"], seed @ constant((4, 3)).T) <= TOLERANCE
