"""A model's convolutional stem: its local nodes (app/runtime/footprints.py) and its cuts.

A *cut* is a local tensor that every path from the image to the logits goes through: the graph
splits there into a part before it and a part after it that reads nothing else. Between two
cuts, a patch's change can be recomputed on a crop of the first (app/explain/crops.py). The
analysis holds for NCHW graphs with one image input and no local functions (the parts are
graphs of their own, and a function's body would have to go with them)."""

from __future__ import annotations

from collections.abc import Iterable

import onnx

from app.gradients.context import node_attr
from app.runtime.footprints import Footprint, LocalNode, Pair, local_node


class StemGraph:
    """The local nodes of a model (graph order), its cuts, and sizes, footprints and costs of
    the parts between them."""

    def __init__(self, model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> None:
        graph = model.graph
        constants = constant_tensors(model)
        images = [value.name for value in graph.input if value.name not in constants]
        self.image = images[0] if len(images) == 1 else ""
        self.shapes = shapes
        self.nodes: dict[str, LocalNode] = {}
        self.total_cost = sum(node_cost(node, shapes) for node in graph.node)
        if self.image and len(shapes.get(self.image, ())) == 4 and not model.functions:
            self._find_local_nodes(model, constants)
        self.cuts: tuple[str, ...] = self._find_cuts(model, constants)
        self._steps = self._find_steps()
        self._step_prints = self._find_step_prints()

    def _find_local_nodes(self, model: onnx.ModelProto, constants: set[str]) -> None:
        strides = {self.image: (1, 1)}  # of each local tensor on the image
        for node in model.graph.node:
            found = local_node(node, set(strides), constants, self.shapes)
            if found is None or len({strides[name] for name in found.reads}) != 1:
                continue  # not local, or a sum of tensors on different grids
            stride = strides[found.reads[0]]
            if found.window is not None:
                stride = (stride[0] * found.window.strides[0], stride[1] * found.window.strides[1])
            self.nodes[found.output] = found
            strides[found.output] = stride

    def _find_cuts(self, model: onnx.ModelProto, constants: set[str]) -> tuple[str, ...]:
        """The local tensors every path from the image to the first output goes through, in
        graph order; the image itself first."""
        if not self.nodes:
            return ()
        nodes = [node for node in model.graph.node if not set(node.output) <= constants]
        output = model.graph.output[0].name
        producer = {tensor: node for node in nodes for tensor in node.output}
        cuts = [self.image]
        for name in self.nodes:
            before = ancestors(producer, name)
            after = descendants(nodes, {name})
            if output not in after:
                continue
            split = all(
                all(not read or read in after or read in constants for read in node.input)
                for node in nodes
                if not set(node.output) <= before
            )
            if split:
                cuts.append(name)
        return tuple(cuts)

    def between(self, source: str, target: str) -> list[LocalNode]:
        """The local nodes computed from the cut `source` that the cut `target` needs, in graph
        order: the steps between the cuts from one to the other (every path goes through each
        cut between them)."""
        first, last = self.cuts.index(source), self.cuts.index(target)
        return [node for step in self._steps[first:last] for node in step]

    def footprint(self, source: str, target: str) -> Footprint:
        """Where the cut `target`'s pixels read the cut `source` (one before it)."""
        first, last = self.cuts.index(source), self.cuts.index(target)
        found = Footprint.identity()
        for step in self._step_prints[first:last]:
            found = found.then(step)
        return found

    def cost(self, source: str, target: str, sizes: Pair) -> float:
        """The cost of computing the cut `target` from the cut `source` of spatial `sizes`
        (per image)."""
        at = {source: sizes}
        total = 0.0
        for node in self.between(source, target):
            size = at[next(name for name in node.reads if name in at)]
            size = node.window.out_sizes(size) if node.window else size
            at[node.output] = size
            total += node.per_pixel * size[0] * size[1]
        return total

    def _find_steps(self) -> list[list[LocalNode]]:
        """The local nodes from each cut to the next."""
        pairs = zip(self.cuts, self.cuts[1:], strict=False)
        return [self._needed(source, target) for source, target in pairs]

    def _find_step_prints(self) -> list[Footprint]:
        """The footprint of each cut on the one before it."""
        found = []
        for source, step in zip(self.cuts[:-1], self._steps, strict=True):
            prints = {source: Footprint.identity()}
            for node in step:
                inputs = [prints[name] for name in node.reads]
                merged = inputs[0]
                for other in inputs[1:]:
                    merged = merged.union(other)
                prints[node.output] = merged.through(node.window) if node.window else merged
            found.append(prints[step[-1].output])
        return found

    def _needed(self, source: str, target: str) -> list[LocalNode]:
        reached, kept = {source}, []
        for node in self.nodes.values():
            if any(name in reached for name in node.reads):
                reached.add(node.output)
                kept.append(node)
        needed, chosen = {target}, []
        for node in reversed(kept):
            if node.output in needed:
                chosen.append(node)
                needed.update(node.reads)
        return chosen[::-1]

    def spatial(self, name: str) -> Pair:
        shape = self.shapes[name]
        return shape[2], shape[3]

    def channels(self, name: str) -> int:
        return self.shapes[name][1]


def constant_tensors(model: onnx.ModelProto) -> set[str]:
    """Initializers and every tensor computed from them alone (Constant nodes included)."""
    graph = model.graph
    constants = {init.name for init in graph.initializer}
    for node in graph.node:
        if all(not name or name in constants for name in node.input):
            constants.update(node.output)
    return constants


def ancestors(producer: dict[str, onnx.NodeProto], name: str) -> set[str]:
    """The tensors `name` is computed from, itself included; `producer`: each tensor's node."""
    found, stack = set(), [name]
    while stack:
        tensor = stack.pop()
        if tensor in found:
            continue
        found.add(tensor)
        node = producer.get(tensor)
        if node is not None:
            stack.extend(read for read in node.input if read)
            found.update(node.output)
    return found


def descendants(nodes: list[onnx.NodeProto], sources: Iterable[str]) -> set[str]:
    """The tensors computed from `sources` (graph order is topological), they included."""
    reached = set(sources)
    for node in nodes:
        if any(read in reached for read in node.input):
            reached.update(node.output)
    return reached


def node_cost(node: onnx.NodeProto, shapes: dict) -> float:
    """A node's cost per image: multiply-adds for Conv, Gemm and MatMul, else one per output
    element (0 where the output's shape is unknown)."""
    shape = shapes.get(node.output[0]) if node.output else None
    if not shape:
        return 0.0
    elements = 1
    for d in shape:
        elements *= d
    if node.op_type == "Conv":
        weight = shapes.get(node.input[1], ())
        return float(elements * prod(weight[1:]))
    if node.op_type in ("Gemm", "MatMul"):
        operand = shapes.get(node.input[1], ())
        transposed = node.op_type == "Gemm" and node_attr(node, "transB", 0)
        inner = operand[-1] if transposed and operand else (operand[-2] if len(operand) >= 2 else 1)
        return float(elements * inner)
    return float(elements)


def prod(values: tuple[int, ...]) -> int:
    total = 1
    for value in values:
        total *= value
    return total
