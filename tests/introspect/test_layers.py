"""Layers with static output shapes, from onnx shape inference at batch 1."""

from app.introspect.layers import find_layer, graph_layers
from app.runtime.layers import static_shapes


def layers_of(model, everything=False):
    return graph_layers(model, static_shapes(model), everything)


def find_in(model, name):
    return find_layer(model, static_shapes(model), name)


def test_the_mnist_cnn_layers_are_listed_with_kinds_and_shapes(mnist_model):
    layers = [(layer.op, layer.kind, layer.shape) for layer in layers_of(mnist_model)]
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
    first = layers_of(mnist_model)[0]
    assert (first.name, first.node) == ("/conv1/Conv_output_0", "/conv1/Conv")
    assert first.as_dict()["shape"] == [32, 26, 26]


def test_all_lists_every_node_including_flatten(mnist_model):
    everything = layers_of(mnist_model, everything=True)
    assert [layer.op for layer in everything if layer.kind == "other"] == ["Flatten"]


def test_a_layer_is_found_by_tensor_or_node_name(mnist_model):
    assert find_in(mnist_model, "/pool/MaxPool").name == "/pool/MaxPool_output_0"
    assert find_in(mnist_model, "/flatten/Flatten_output_0").op == "Flatten"
    assert find_in(mnist_model, "nothing") is None
