"""app/gradients/phases.py: weaving stride phases back, against numpy's strided assignment."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from app.gradients.analysis import collect_facts
from app.gradients.context import BackwardContext
from app.gradients.phases import woven


@pytest.mark.parametrize(("stride", "grid"), [(2, (3, 4)), (3, (2, 2)), (1, (2, 5))])
def test_the_phases_land_on_their_rows_and_columns(stride, grid):
    ctx = BackwardContext(collect_facts(helper.make_graph([], "g", [], []))[0], None)
    names = [f"p{i}" for i in range(stride * stride)]
    out = woven(ctx, names, list(grid), stride)
    shape = [2, 3, *grid]
    graph = helper.make_graph(
        ctx.nodes or [helper.make_node("Identity", [out], ["o"])],
        "weave",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in names],
        [helper.make_tensor_value_info(out if ctx.nodes else "o", TensorProto.FLOAT, None)],
        ctx.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(stride)
    phases = {n: rng.normal(size=shape).astype(np.float32) for n in names}
    expected = np.zeros((2, 3, grid[0] * stride, grid[1] * stride), np.float32)
    for index, name in enumerate(names):
        a, b = divmod(index, stride)
        expected[:, :, a::stride, b::stride] = phases[name]
    np.testing.assert_array_equal(session.run(None, phases)[0], expected)
