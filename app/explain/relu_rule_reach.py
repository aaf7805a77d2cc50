"""Which nodes a ReLU rule (guided backprop, deconvnet) changes on a model: only Relu, as
Captum's GuidedBackprop and Deconvolution override only nn.ReLU. The other piecewise
activations (ReLU6 as Clip, LeakyRelu...) keep their plain gradient, so on a model without a
Relu (EfficientNet-Lite0 has ReLU6 only) the map is the saliency map, and the response says
so rather than pass it off as another method's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import onnx

PLAIN_GRADIENT = ("Clip", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "HardSigmoid",
                  "HardSwish", "ThresholdedRelu")  # fmt: skip


def relu_rule_reach(model: onnx.ModelProto) -> dict[str, Any]:
    """The response's figures: Relu nodes the rule changes, the activations it leaves with
    their gradient (op type -> count), and whether the map is therefore the saliency map."""
    ops = Counter(node.op_type for node in model.graph.node)
    return {
        "relus_with_the_rule": ops["Relu"],
        "activations_with_their_gradient": {op: ops[op] for op in PLAIN_GRADIENT if ops[op]},
        "same_as_saliency": ops["Relu"] == 0,
    }
