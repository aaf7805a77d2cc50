"""Autograd on the original torch module, with each kink taken on the ONNX forward's side.

torch and onnxruntime compute the same network with different float32 roundings (about 1e-6
apart). Where a ReLU's input lies within that distance of 0, the two take different branches,
and one unit out of millions flips its gradient: a max relative error of 1e-2 on the input
gradient of a ResNet-50, with every backward rule exact. (Bisecting the six architectures of
issue 11 found nothing else: each node's backward, evaluated at onnxruntime's own forward
values, matched torch to 1.5e-6.)

So the reference here is torch autograd on the module as it is, except that each piecewise
function (relu, hardtanh/relu6, leaky_relu, hardswish, hardsigmoid, max_pool2d) takes its
local derivative at the value the ONNX forward computed for its input: torch's own backward
formula, at the ONNX point. Forward values stay torch's. Each call is matched to
a node of its ONNX type whose value agrees with it (to AGREEMENT), so a call that finds none
fails loudly instead of aligning the wrong tensors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

# torch function -> the ONNX op types it is exported as (HardSwish is HardSigmoid * x < opset 14)
KINKS: dict[Callable, tuple[str, ...]] = {
    F.relu: ("Relu",),
    torch.relu: ("Relu",),
    torch.Tensor.relu: ("Relu",),
    F.hardtanh: ("Clip",),
    F.relu6: ("Clip",),
    F.leaky_relu: ("LeakyRelu",),
    F.hardswish: ("HardSwish", "HardSigmoid"),
    F.hardsigmoid: ("HardSigmoid",),
    F.max_pool2d: ("MaxPool",),
}
ONNX_KINKS = ("Relu", "Clip", "LeakyRelu", "HardSwish", "HardSigmoid", "MaxPool")
AGREEMENT = 1e-3  # largest |torch - onnx| / max|torch| accepted at a kink's input


def kink_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The model's piecewise nodes, in graph order."""
    return [node for node in model.graph.node if node.op_type in ONNX_KINKS]


def read_tensor(node: onnx.NodeProto) -> str:
    """What the backward rule of `node` reads: Relu its output (y > 0 iff x > 0), others x."""
    return node.output[0] if node.op_type == "Relu" else node.input[0]


class _AtOnnxPoint(torch.autograd.Function):
    """fn(x) forward; backward: torch's derivative of fn at the ONNX value of x, or for a
    ReLU under a `relu_rule`, guided backprop's or deconvnet's rule on this call's gradient
    (the engine's per-edge semantics)."""

    @staticmethod
    def forward(ctx, x, onnx_value, fn, relu_rule):
        ctx.fn, ctx.relu_rule = fn, relu_rule
        ctx.save_for_backward(onnx_value)
        return fn(x)

    replaying = False  # set while fn runs in backward, so Alignment lets the call through

    @staticmethod
    def backward(ctx, grad):
        (onnx_value,) = ctx.saved_tensors
        if ctx.relu_rule == "deconvnet":
            return grad.clamp(min=0), None, None, None
        if ctx.relu_rule == "guided":
            return grad.clamp(min=0) * (onnx_value > 0), None, None, None
        _AtOnnxPoint.replaying = True
        try:
            with torch.enable_grad():
                point = onnx_value.detach().requires_grad_()
                (local,) = torch.autograd.grad(ctx.fn(point), point, grad)
        finally:
            _AtOnnxPoint.replaying = False
        return local, None, None, None


class Alignment(TorchFunctionMode):
    """Active during the reference's forward: routes each kink call through _AtOnnxPoint.

    `flips` counts the kink elements whose branch differs between the two forwards. Every
    result shaped like `tap_shape` is kept in `tapped` (its gradient retained), so a test can
    find the torch tensor that is the ONNX layer it looks at.
    """

    def __init__(
        self,
        nodes: list[onnx.NodeProto],
        values: dict[str, np.ndarray],
        tap_shape=None,
        relu_rule: str | None = None,
    ) -> None:
        super().__init__()
        self.values = values  # read_tensor(node) -> the ONNX forward's value
        self.relu_rule = relu_rule  # None (the gradient), "guided" or "deconvnet"
        self.tap_shape = tuple(tap_shape) if tap_shape is not None else None
        self.tapped: list[torch.Tensor] = []
        self.flips = 0
        self._nodes: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in nodes:
            self._nodes[node.op_type].append(node)
        self._matched: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func not in KINKS or _AtOnnxPoint.replaying:
            return self._tap(func(*args, **kwargs))
        kwargs.pop("inplace", None)
        x, rest = args[0], args[1:]

        def fn(t):
            return func(t, *rest, **kwargs)

        torch_value = fn(x).detach()  # what the ONNX value is compared with (Relu: its output)
        node, onnx_value = self._match(KINKS[func], func, x.detach(), torch_value)
        local = self.relu_rule if node.op_type == "Relu" else None
        return self._tap(_AtOnnxPoint.apply(x, onnx_value, fn, local))

    def _match(self, op_types, func, x, y) -> tuple[onnx.NodeProto, torch.Tensor]:
        """The first ONNX node of `op_types` whose value agrees with this call's, unmatched
        ones first (exporters may order independent branches differently, and merge two
        calls of one module on one tensor into one node)."""
        candidates = [n for op in op_types for n in self._nodes.get(op, [])]
        for node in sorted(candidates, key=lambda n: n.name in self._matched):
            mine = y if node.op_type == "Relu" else x
            theirs = self.values[read_tensor(node)]
            if tuple(theirs.shape) != tuple(mine.shape):
                continue
            onnx_value = torch.tensor(theirs, dtype=mine.dtype)
            scale = float(mine.abs().max()) + 1e-12
            if float((mine - onnx_value).abs().max()) / scale <= AGREEMENT:
                if node.op_type in ("Relu", "LeakyRelu") and node.name not in self._matched:
                    self.flips += int(((mine > 0) != (onnx_value > 0)).sum())
                self._matched.add(node.name)
                return node, onnx_value
        raise AssertionError(f"{func.__name__} {tuple(x.shape)}: no ONNX {op_types} agrees")

    def _tap(self, result):
        if (
            isinstance(result, torch.Tensor) and tuple(result.shape) == self.tap_shape
            and result.requires_grad and not _AtOnnxPoint.replaying
        ):  # fmt: skip
            result.retain_grad()
            self.tapped.append(result)
            return result.clone()  # in-place ops downstream (x += shortcut) change the clone
        return result

    def tapped_like(self, value: np.ndarray) -> torch.Tensor:
        """The kept torch tensor closest to the ONNX tensor `value`."""
        assert self.tapped, f"no torch tensor shaped {self.tap_shape}"
        reference = torch.tensor(value)
        gaps = [float((t.detach().float() - reference).abs().max()) for t in self.tapped]
        return self.tapped[int(np.argmin(gaps))]

    def finished(self) -> None:
        """Every ONNX kink was met by a torch call."""
        every = [node.name for nodes in self._nodes.values() for node in nodes]
        left = [name for name in every if name not in self._matched]
        assert not left, f"ONNX kinks without a torch call: {left}"
