"""A deep ResNet-like ONNX graph built with onnx.helper: a stem, `blocks` residual blocks
(Conv, BatchNormalization, Relu, Conv, BatchNormalization, Add, Relu; a 1x1 Conv shortcut when
the width doubles) and a head. Random weights; for the diagram and summary tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        value = self.rng.normal(0, 0.1, shape).astype(np.float32)
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv_bn(self, x: str, cin: int, cout: int, name: str, kernel: int = 3, stride: int = 1):
        w = self.weight(f"{name}.w", (cout, cin, kernel, kernel))
        pads = [kernel // 2] * 4
        conv = self.node("Conv", [x, w], f"{name}.conv", strides=[stride] * 2, pads=pads)
        stats = [self.weight(f"{name}.bn.{p}", (cout,)) for p in ("g", "b", "m")]
        var = self.weight(f"{name}.bn.v", (cout,))
        self.weights[-1] = numpy_helper.from_array(np.ones(cout, np.float32), var)
        return self.node("BatchNormalization", [conv, *stats, var], f"{name}.bn")


def resnet_like(blocks: int = 8, width: int = 8, size: int = 32, seed: int = 0) -> onnx.ModelProto:
    """7 nodes per block (+2 for a shortcut conv), a 3-node stem and a 3-node head."""
    b = _Builder(seed)
    x = b.node("Relu", [b.conv_bn("input", 3, width, "stem")], "stem.relu")
    cin = width
    for index in range(blocks):
        cout, stride = (cin * 2, 2) if index and index % 3 == 0 else (cin, 1)
        name = f"block{index}"
        h = b.node("Relu", [b.conv_bn(x, cin, cout, f"{name}.a", stride=stride)], f"{name}.relu_a")
        h = b.conv_bn(h, cout, cout, f"{name}.b")
        shortcut = x if cout == cin else b.conv_bn(x, cin, cout, f"{name}.short", 1, stride)
        x = b.node("Relu", [b.node("Add", [h, shortcut], f"{name}.add")], f"{name}.relu")
        cin = cout
    pooled = b.node("GlobalAveragePool", [x], "pool")
    flat = b.node("Flatten", [pooled], "flatten")
    b.node("Gemm", [flat, b.weight("fc.w", (10, cin)), b.weight("fc.b", (10,))], "logits", transB=1)
    graph = helper.make_graph(
        b.nodes,
        "resnet_like",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        b.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model
