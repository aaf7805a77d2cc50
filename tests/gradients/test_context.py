"""BackwardContext helpers that rules share."""

import numpy as np
from onnx import TensorProto, helper

from app.gradients.context import BackwardContext, GraphFacts
from tests.gradients.sessions import make_session


def test_masked_gives_where_s_numbers_without_a_where_node():
    ctx = BackwardContext(GraphFacts(), "relu_rule")
    out = ctx.masked("g", "keep")
    graph = helper.make_graph(
        ctx.nodes,
        "masked",
        [
            helper.make_tensor_value_info("g", TensorProto.FLOAT, [2, 3, 4]),
            helper.make_tensor_value_info("keep", TensorProto.BOOL, [2, 3, 4]),
        ],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [2, 3, 4])],
        ctx.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    rng = np.random.default_rng(0)
    grad = rng.standard_normal((2, 3, 4)).astype(np.float32)
    keep = rng.standard_normal((2, 3, 4)) > 0
    (result,) = make_session(model).run(None, {"g": grad, "keep": keep})
    np.testing.assert_array_equal(result, np.where(keep, grad, 0))
    assert "Where" not in {node.op_type for node in ctx.nodes}


def test_chosen_gives_where_s_numbers_with_broadcasting_without_a_where_node():
    ctx = BackwardContext(GraphFacts(), "relu_rule")
    out = ctx.chosen("pick", "a", "b")
    graph = helper.make_graph(
        ctx.nodes,
        "chosen",
        [
            helper.make_tensor_value_info("pick", TensorProto.BOOL, [2, 3, 4]),
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3, 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [3, 1]),
        ],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [2, 3, 4])],
        ctx.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((2, 3, 4)) * 1e30).astype(np.float32)  # large and tiny values
    b = (rng.standard_normal((3, 1)) * 1e-30).astype(np.float32)
    pick = rng.standard_normal((2, 3, 4)) > 0
    (result,) = make_session(model).run(None, {"pick": pick, "a": a, "b": b})
    np.testing.assert_array_equal(result, np.where(pick, a, b))
    assert "Where" not in {node.op_type for node in ctx.nodes}
