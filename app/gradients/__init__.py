"""The gradient engine: an ONNX model's backward pass, as a new graph of standard ONNX ops.

`build_explain_graph(model, layers)` returns an ExplainGraph whose model takes the image and
`seed` (weights on the logits), with `rules=True` also `relu_rule` (see ReluRule) and the
propagation inputs, and gives `logits`, `input_grad` and, per requested layer L, `act:L` and
`grad:L`. `ExplainSession` runs it.
"""

from app.gradients.coverage import path_op_counts, supported_ops, unsupported_ops
from app.gradients.errors import UnsupportedOpError
from app.gradients.graph import (
    ExplainGraph,
    LayerOutputs,
    ReluRule,
    build_explain_graph,
    gradient_nodes,
)
from app.gradients.session import ExplainResult, ExplainSession

__all__ = [
    "ExplainGraph",
    "ExplainResult",
    "ExplainSession",
    "LayerOutputs",
    "ReluRule",
    "UnsupportedOpError",
    "build_explain_graph",
    "gradient_nodes",
    "path_op_counts",
    "supported_ops",
    "unsupported_ops",
]
