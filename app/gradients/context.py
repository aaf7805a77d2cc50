"""The builder handed to every backward rule: unique names, constants, static shapes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import onnx
from onnx import helper, numpy_helper

from app.gradients.errors import UnsupportedOpError

Dim = int | str | None
Shape = tuple[Dim, ...]
INT64_MAX = np.iinfo(np.int64).max


@dataclass
class GraphFacts:
    """What shape inference and the initializers tell us about the forward graph."""

    shapes: dict[str, Shape] = field(default_factory=dict)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    elem_types: dict[str, int] = field(default_factory=dict)  # onnx.TensorProto element types
    opset: int = 0  # the forward model's default-domain opset


def node_attr(node: onnx.NodeProto, name: str, default=None):
    """Value of attribute `name` of `node`, or `default` when absent."""
    for attribute in node.attribute:
        if attribute.name == name:
            value = helper.get_attribute_value(attribute)
            return value.decode() if isinstance(value, bytes) else value
    return default


def node_input(node: onnx.NodeProto, index: int) -> str:
    """Name of input `index` of `node`, or "" when the optional input is absent."""
    return node.input[index] if index < len(node.input) else ""


class BackwardContext:
    """Collects the nodes and initializers emitted by backward rules."""

    def __init__(self, facts: GraphFacts, relu_rule: str | None) -> None:
        self.facts = facts
        self.relu_rule = relu_rule  # the relu_rule input; None: the plain gradient only
        # each gradient tensor's shape (its forward tensor's), for the graph's value_info
        self.gradient_shapes: dict[str, Shape] = {}
        self.requires: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used = set(facts.names)
        self._cache: dict[object, object] = {}
        self._shared: dict[object, str] = {}
        self._counter = itertools.count(1)

    def fork(self) -> BackwardContext:
        """A context for another backward pass of the same graph (an If branch): its own
        nodes and node cache; names, initializers and shared constants in common."""
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.nodes, other._cache = [], {}
        return other

    def fresh(self, hint: str) -> str:
        """A tensor name not used anywhere in the graph."""
        while True:
            name = f"bw/{hint}_{next(self._counter)}"
            if name not in self._used:
                self._used.add(name)
                return name

    def emit(self, op_type: str, inputs: list[str], n_outputs: int = 1, **attrs):
        """Append one node; returns its output name (or list of names if n_outputs > 1)."""
        outputs = [self.fresh(op_type.lower()) for _ in range(n_outputs)]
        node_name = self.fresh(f"node_{op_type}")
        self.nodes.append(helper.make_node(op_type, inputs, outputs, node_name, **attrs))
        return outputs[0] if n_outputs == 1 else outputs

    def const(self, value, dtype=np.float32) -> str:
        """An initializer holding `value`."""
        name = self.fresh("const")
        array = np.asarray(value, dtype=dtype)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def shared_const(self, key: object, factory: Callable[[], np.ndarray]) -> str:
        """An initializer built once for every backward pass of the graph (e.g. flipped
        weights), so If branches do not each hold a copy."""
        if key not in self._shared:
            self._shared[key] = self.const(factory())
        return self._shared[key]

    def ints(self, values) -> str:
        """A 1-D int64 initializer (axes, pads, shapes, ...)."""
        return self.const(list(values), np.int64)

    def cached(self, key: object, factory: Callable[[], object]):
        """Build something once per explain graph (shared flags, Shape nodes)."""
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]

    def needs(self, tensor: str) -> bool:
        """Whether `tensor` is on the gradient path (weights and constants are not)."""
        return tensor in self.requires

    def shape(self, tensor: str) -> Shape | None:
        """Static shape from shape inference; dims are int, symbol name or None."""
        return self.facts.shapes.get(tensor)

    def known_shape(self, tensor: str, node: onnx.NodeProto) -> Shape:
        """Static shape of `tensor`; rules need its rank, so an unknown rank is unsupported."""
        shape = self.shape(tensor)
        if shape is None:
            raise UnsupportedOpError(node.op_type, node.name, f"unknown rank of '{tensor}'")
        return shape

    def rank(self, tensor: str, node: onnx.NodeProto) -> int:
        """Rank of `tensor` (see known_shape)."""
        return len(self.known_shape(tensor, node))

    def static_dims(self, tensor: str, node: onnx.NodeProto) -> tuple[int, ...]:
        """The shape of `tensor` with every dim except the batch axis known."""
        shape = self.shape(tensor)
        if shape is None or not all(isinstance(d, int) for d in shape[1:]):
            raise UnsupportedOpError(node.op_type, node.name, f"'{tensor}' needs static dims")
        return cast(tuple[int, ...], shape)  # the batch axis may be symbolic

    def value(self, tensor: str) -> np.ndarray | None:
        """Constant value of `tensor` (initializer or Constant node), else None."""
        return self.facts.constants.get(tensor) if tensor else None

    def runtime_shape(self, tensor: str) -> str:
        """A Shape node on `tensor`, shared by all rules."""
        return self.cached(("shape", tensor), lambda: self.emit("Shape", [tensor]))

    def reshape_like(self, grad: str, tensor: str) -> str:
        """Reshape `grad` to the runtime shape of `tensor`."""
        return self.emit("Reshape", [grad, self.runtime_shape(tensor)])

    def zeros_like(self, tensor: str) -> str:
        """A float zeros tensor with the runtime shape of `tensor`."""
        return self.emit("ConstantOfShape", [self.runtime_shape(tensor)])

    def masked(self, grad: str, condition: str) -> str:
        """`grad` where the bool `condition` holds, else 0, as grad * float(condition).

        For finite gradients these are Where(condition, grad, 0)'s numbers (a zero may be
        -0.0), but onnxruntime's CPU Where is not vectorised: ~15x slower than the Cast and
        the Mul on an activation-sized tensor (bench/explain_profile.py).
        """
        return self.emit("Mul", [grad, self.emit("Cast", [condition], to=onnx.TensorProto.FLOAT)])

    def chosen(self, condition: str, if_true: str, if_false: str) -> str:
        """`if_true` where the bool `condition` holds, else `if_false` (broadcast), as
        if_true * c + if_false * (1 - c) with c = float(condition): Where's numbers for finite
        values (a zero may be -0.0), without its slow kernel (see `masked`)."""
        picked = self.emit("Cast", [condition], to=onnx.TensorProto.FLOAT)
        other = self.emit("Sub", [self.const(1.0), picked])
        return self.emit(
            "Add", [self.emit("Mul", [if_true, picked]), self.emit("Mul", [if_false, other])]
        )

    def scale(self, tensor: str, factor: float) -> str:
        """`tensor * factor` with a float32 scalar constant."""
        return self.emit("Mul", [tensor, self.const(factor)])
