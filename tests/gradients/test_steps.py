"""app/gradients/steps.py: HardSigmoid masks are exactly 1 inside the bounds and 0 on them,
for every float (denormals, the largest), and keep onnxruntime's NCHWc layout."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from app.gradients import build_explain_graph, steps
from app.gradients.analysis import collect_facts
from app.gradients.context import BackwardContext
from app.runtime.sessions import SessionFactory

TINY = np.float32(2.0**-149)


def _mask(low: float | None, high: float | None, y: np.ndarray) -> np.ndarray:
    """steps.inside on `y` (1-D), run by onnxruntime."""
    ctx = BackwardContext(collect_facts(helper.make_graph([], "g", [], []))[0], None)
    out = steps.inside(ctx, "y", low, high)
    graph = helper.make_graph(
        ctx.nodes,
        "steps",
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [len(y)])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [len(y)])],
        ctx.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"y": y})[0]


def _around(*bounds: float) -> np.ndarray:
    """Each bound, its float neighbours and the extremes of float32."""
    values = [0.0, TINY, -TINY, 1e-38, -1e-38, 3.4e38, -3.4e38, 1.0, -1.0]
    for bound in bounds:
        b = np.float32(bound)
        values += [b, np.nextafter(b, np.float32(np.inf)), np.nextafter(b, np.float32(-np.inf))]
    return np.array(values, np.float32)


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 6.0), (0.0, None), (None, 6.0), (-0.3, 0.4), (-1e6, 1e6)]
)
def test_the_mask_is_one_strictly_inside_the_bounds_and_zero_elsewhere(low, high):
    y = _around(*(b for b in (low, high) if b is not None))
    expected = np.ones_like(y, dtype=bool)
    if low is not None:
        expected &= y > np.float32(low)
    if high is not None:
        expected &= y < np.float32(high)
    np.testing.assert_array_equal(_mask(low, high, y), expected.astype(np.float32))


def test_bounds_too_large_for_an_exact_scale_are_left_to_comparisons():
    assert steps.usable(0.0, 6.0) and steps.usable(None, -3.0)
    assert not steps.usable(None, None) and not steps.usable(0.0, 1e30)


def _reorders(model: onnx.ModelProto, folder) -> int:
    """ReorderInput/ReorderOutput nodes in onnxruntime's optimised `model` (NCHWc layout)."""
    options = SessionFactory(1).options()
    options.optimized_model_filepath = str(folder / "optimized.onnx")
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    optimised = onnx.load(str(folder / "optimized.onnx"))
    return sum(node.op_type.startswith("Reorder") for node in optimised.graph.node)


def _conv_chain(activation: onnx.NodeProto | None) -> onnx.ModelProto:
    """Three 3x3 convs of 16 channels with `activation` (reading `c{i}`, giving `a{i}`) after
    each of the first two, then a global pool: a small net of NCHWc-friendly shapes."""
    rng = np.random.default_rng(0)
    nodes, inits, current = [], [], "x"
    for i in range(3):
        weight = numpy_helper.from_array(
            rng.normal(size=(16, 16, 3, 3)).astype(np.float32), f"w{i}"
        )
        inits.append(weight)
        nodes.append(helper.make_node("Conv", [current, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1]))
        current = f"c{i}"
        if i < 2 and activation is not None:
            act = onnx.NodeProto()
            act.CopyFrom(activation)
            act.input[0], act.output[0] = current, f"a{i}"
            nodes.append(act)
            current = f"a{i}"
    nodes += [helper.make_node("GlobalAveragePool", [current], ["p"]),
              helper.make_node("Flatten", ["p"], ["logits"])]  # fmt: skip
    inits += [
        numpy_helper.from_array(np.float32(0), "lo"),
        numpy_helper.from_array(np.float32(6), "hi"),
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, 20, 20])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 16])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(
    "activation",
    [
        helper.make_node("Relu", ["in"], ["out"]),
        helper.make_node("Clip", ["in", "lo", "hi"], ["out"]),
    ],
    ids=["relu", "relu6"],
)
def test_masks_of_the_plain_gradient_keep_the_nchwc_layout(activation, tmp_path):
    """The masked gradients stay in onnxruntime's NCHWc layout: the explain graph reorders no
    more than the same graph whose masks are plain identities (no activation at all)."""
    masked = build_explain_graph(_conv_chain(activation)).model
    unmasked = build_explain_graph(_conv_chain(None)).model
    assert _reorders(masked, tmp_path) <= _reorders(unmasked, tmp_path)
