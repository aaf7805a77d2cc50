"""The Keras-style summary: rows, parameters (Keras's numbers), MACs, the text table."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from app.introspect.summary import summarise, summary_text
from app.runtime.layers import static_shapes
from tests.conftest import SHIPPED_STORE
from tests.nets import export_onnx, make_net

KERAS_MNIST_TOTAL = 1_199_882


def summary_of(model):
    return summarise(model, static_shapes(model))


def test_the_mnist_cnn_rows_have_keras_types_and_parameter_counts(mnist_model):
    rows = summary_of(mnist_model)["rows"]
    assert [(r["name"], r["type"], r["activation"]) for r in rows] == [
        ("conv1", "Conv2D", "relu"),
        ("conv2", "Conv2D", "relu"),
        ("pool", "MaxPooling2D", None),
        ("flatten", "Flatten", None),
        ("dense1", "Dense", "relu"),
        ("dense2", "Dense", None),
    ]
    # Keras: conv 320, conv 18,496, pool 0, (dropout 0), flatten 0, dense 1,179,776,
    # (dropout 0), dense 1,290. Dropout left the graph at export, so it has no row.
    assert [r["parameters"] for r in rows] == [320, 18_496, 0, 0, 1_179_776, 1_290]
    assert [r["output_shape"] for r in rows][:2] == [[None, 32, 26, 26], [None, 64, 24, 24]]


def test_the_mnist_cnn_totals_equal_keras(mnist_model):
    summary = summary_of(mnist_model)
    assert summary["total_parameters"] == KERAS_MNIST_TOTAL
    assert summary["trainable_parameters"] == KERAS_MNIST_TOTAL
    assert summary["non_trainable_parameters"] == 0
    assert all(row["trainable"] for row in summary["rows"])


def test_macs_follow_the_conv_and_dense_formulas(mnist_model):
    summary = summary_of(mnist_model)
    expected = [26 * 26 * 32 * 3 * 3 * 1, 24 * 24 * 64 * 3 * 3 * 32, 0, 0, 9216 * 128, 128 * 10]
    assert [row["macs"] for row in summary["rows"]] == expected
    assert summary["total_macs"] == sum(expected)


def test_the_shipped_mnist_cnn_summary_totals_equal_keras():
    versions = sorted(
        SHIPPED_STORE.glob("mnist_cnn/*/model.onnx"), key=lambda p: int(p.parent.name)
    )
    assert versions, "model_store/mnist_cnn is missing"
    assert summary_of(onnx.load(versions[-1]))["total_parameters"] == KERAS_MNIST_TOTAL


def test_batch_normalisation_statistics_are_not_trainable():
    summary = summary_of(export_onnx(make_net("resnet_tiny")))
    bn_channels = sum(
        row["output_shape"][1] for row in summary["rows"] if row["type"] == "BatchNormalization"
    )
    assert summary["non_trainable_parameters"] == 2 * bn_channels
    assert summary["trainable_parameters"] == 5_266  # torch: sum(p.numel() for parameters)
    assert summary["total_parameters"] == 5_266 + 144  # and the running means and variances


def test_a_depthwise_conv_is_typed_depthwise():
    types = [row["type"] for row in summary_of(export_onnx(make_net("mobilenet_v2_tiny")))["rows"]]
    assert types.count("DepthwiseConv2D") == 3


def test_a_bias_add_and_activation_after_matmul_fold_into_one_dense_row():
    weights = {"w": np.ones((4, 3), np.float32), "b": np.zeros(3, np.float32)}
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="/fc/MatMul"),
        helper.make_node("Add", ["m", "b"], ["a"], name="/fc/Add"),
        helper.make_node("Relu", ["a"], ["y"], name="/fc/Relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (row,) = summary_of(model)["rows"]
    assert (row["type"], row["parameters"], row["macs"], row["activation"]) == (
        "Dense",
        15,
        12,
        "relu",
    )


def test_repeated_layer_names_are_made_unique_like_keras():
    names = [row["name"] for row in summary_of(export_onnx(make_net("resnet_tiny")))["rows"]]
    assert len(names) == len(set(names))


def test_the_text_summary_is_a_keras_like_table(mnist_model):
    text = summary_text("mnist_cnn", summary_of(mnist_model))
    lines = text.splitlines()
    assert lines[0] == 'Model: "mnist_cnn"'
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "MACs"]
    assert "dense1 (Dense, relu)" in text and "(None, 64, 12, 12)" in text
    assert "Total params: 1,199,882" in lines
    assert "Non-trainable params: 0" in lines
