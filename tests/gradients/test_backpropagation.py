"""app/gradients/backpropagation.py: the shapes the explain graph declares for its gradient
tensors are the shapes onnxruntime computes for them, batch symbol kept."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

from app.gradients import build_explain_graph
from tests.nets import export_onnx, make_net


def test_every_declared_gradient_shape_is_the_one_computed():
    model = build_explain_graph(export_onnx(make_net("resnet_tiny"))).model
    declared = {v.name: v for v in model.graph.value_info}
    assert declared, "the graph declares its gradients' shapes"
    batch = {v.type.tensor_type.shape.dim[0].dim_param for v in declared.values()}
    assert batch == {model.graph.input[0].type.tensor_type.shape.dim[0].dim_param}
    for name in declared:
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rows = 3
    image = np.zeros(
        (rows, *(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:])),
        np.float32,
    )
    feeds = {"input": image, "seed": np.ones((rows, 10), np.float32)}
    feeds |= {
        i.name: np.zeros((rows, 1), np.float32)
        for i in session.get_inputs()
        if i.name == "top_seed"
    }
    names = list(declared)
    for name, value in zip(names, session.run(names, feeds), strict=True):
        dims = declared[name].type.tensor_type.shape.dim
        assert value.shape == (rows, *(d.dim_value for d in dims[1:])), name
