"""The top-class seed: one run explains each row's own top class, as its one-hot seed would."""

import numpy as np
import pytest

from app.gradients import build_explain_graph
from tests.gradients.reference import random_input
from tests.gradients.sessions import explain_session
from tests.nets import export_onnx, make_net


@pytest.mark.parametrize("input_gradient", [True, False])
def test_a_top_seed_explains_each_rows_own_top_class_as_its_one_hot_seed_does(input_gradient):
    net = make_net("resnet_tiny", seed=1)
    layer = [n.output[0] for n in export_onnx(net).graph.node if n.op_type == "Relu"][-1]
    graph = build_explain_graph(export_onnx(net), [layer], input_gradient=input_gradient)
    session = explain_session(graph)
    image = random_input((3, 3, 16, 16))
    top = session.run(image, np.zeros((3, 10), np.float32)).logits.argmax(axis=1)
    one_hot = np.eye(10, dtype=np.float32)[top]
    # rows 0 and 2 find their class in the graph; row 1 is seeded by hand (another class)
    mixed_seed = np.zeros((3, 10), np.float32)
    mixed_seed[1, (top[1] + 1) % 10] = 1.0
    expected_seed = one_hot.copy()
    expected_seed[1] = mixed_seed[1]
    tops = np.array([[1.0], [0.0], [1.0]], np.float32)
    found = session.run(image, mixed_seed, top_seed=tops)
    expected = session.run(image, expected_seed)
    assert graph.top_seed_name == "top_seed"
    np.testing.assert_array_equal(found.logits, expected.logits)
    np.testing.assert_array_equal(found.gradients[layer], expected.gradients[layer])
    if input_gradient:
        np.testing.assert_array_equal(found.input_grad, expected.input_grad)


def test_a_graph_seeded_from_another_tensor_has_no_top_seed():
    model = export_onnx(make_net("lenet5"))
    layer = "/features/features.4/Relu_output_0"
    graph = build_explain_graph(model, [layer], objective=layer)
    assert graph.top_seed_name is None
    assert "top_seed" not in {v.name for v in graph.model.graph.input}
    with pytest.raises(ValueError, match="cannot seed the top class"):
        image, seed = random_input((1, 1, 28, 28)), np.zeros((1, 1))
        explain_session(graph).feeds(image, seed, top_seed=np.ones((1, 1)))
