"""Layers with static output shapes, from onnx shape inference at batch 1."""

from app.introspect.layers import find_layer, graph_layers, static_shapes
from tests.tiny_models import tiny_cnn


def test_the_mnist_cnn_layers_are_listed_with_kinds_and_shapes(mnist_model):
    layers = [(layer.op, layer.kind, layer.shape) for layer in graph_layers(mnist_model)]
    assert layers == [
        ("Conv", "conv", (32, 26, 26)),
        ("Relu", "activation", (32, 26, 26)),
        ("Conv", "conv", (64, 24, 24)),
        ("Relu", "activation", (64, 24, 24)),
        ("MaxPool", "pool", (64, 12, 12)),
        ("Gemm", "dense", (128,)),
        ("Relu", "activation", (128,)),
        ("Gemm", "dense", (10,)),
    ]


def test_a_layer_names_its_tensor_and_its_node(mnist_model):
    first = graph_layers(mnist_model)[0]
    assert (first.name, first.node) == ("/conv1/Conv_output_0", "/conv1/Conv")
    assert first.as_dict()["shape"] == [32, 26, 26]


def test_all_lists_every_node_including_flatten(mnist_model):
    everything = graph_layers(mnist_model, everything=True)
    assert [layer.op for layer in everything if layer.kind == "other"] == ["Flatten"]


def test_static_shapes_put_the_batch_axis_at_one():
    shapes = static_shapes(tiny_cnn(3, 16, 4))
    assert shapes["input"] == (1, 3, 16, 16)
    assert shapes["conv"] == (1, 8, 8, 8)
    assert shapes["logits"] == (1, 4)


def test_static_shapes_are_computed_once_per_model():
    model = tiny_cnn(1, 28, 10)
    assert static_shapes(model) is static_shapes(model)


def test_a_layer_is_found_by_tensor_or_node_name(mnist_model):
    assert find_layer(mnist_model, "/pool/MaxPool").name == "/pool/MaxPool_output_0"
    assert find_layer(mnist_model, "/flatten/Flatten_output_0").op == "Flatten"
    assert find_layer(mnist_model, "nothing") is None
