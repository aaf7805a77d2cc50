"""One zoo entry explained both ways: by the engine (onnxruntime) and by torch autograd on the
original module (aligned.py), on the same batch, with a different target per sample."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import onnx
import torch
from captum.attr import Deconvolution, GuidedBackprop
from onnx import TensorProto, helper

from app.gradients import ExplainSession, ReluRule, build_explain_graph
from app.runtime.layers import default_cam_layer
from tests.gradients.reference import Seeded
from tests.gradients.sessions import explain_session
from tests.gradients.zoo.aligned import Alignment, kink_nodes, read_tensor
from tests.gradients.zoo.architectures import BY_KEY, CLASSES, exported, network

BATCH, TARGETS = 2, (3, 8)


@dataclass
class Outputs:
    """What one side gives for the batch: logits, input gradient, CAM layer act and grad."""

    logits: np.ndarray
    input_grad: np.ndarray
    layer_act: np.ndarray | None = None
    layer_grad: np.ndarray | None = None


@dataclass
class Engine:
    """The explain session of an entry, with the kink inputs as extra outputs."""

    session: ExplainSession
    layer: str | None
    kinks: list[onnx.NodeProto]


def with_taps(graph_model: onnx.ModelProto, names: list[str]) -> onnx.ModelProto:
    tapped = onnx.ModelProto()
    tapped.CopyFrom(graph_model)
    existing = {o.name for o in tapped.graph.output}
    for name in dict.fromkeys(names):
        if name not in existing:
            tapped.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return tapped


@functools.lru_cache(maxsize=2)  # one model's two graphs at a time: conftest.py runs them in turn
def engine(key: str, rules: bool = False) -> Engine:
    """The graph the engine runs the gradient on, or (`rules`) the one with the ReLU rules."""
    model = exported(key)
    layer = default_cam_layer(model, None)
    graph = build_explain_graph(model, [layer] if layer else [], rules=rules)
    computed = {name for node in graph.model.graph.node for name in node.output}
    computed.add(graph.input_name)
    kinks = [node for node in kink_nodes(model) if read_tensor(node) in computed]  # not folded
    graph.model = with_taps(graph.model, [read_tensor(node) for node in kinks])
    return Engine(explain_session(graph), layer, kinks)


def batch(key: str) -> tuple[np.ndarray, np.ndarray]:
    """A standard-normal batch and one-hot seeds on a different class per sample."""
    size = BY_KEY[key].size
    image = np.random.default_rng(len(key)).standard_normal((BATCH, 3, size, size))
    seed = np.zeros((BATCH, CLASSES), dtype=np.float32)
    seed[np.arange(BATCH), TARGETS] = 1.0
    return image.astype(np.float32), seed


def run_engine(key: str, image: np.ndarray, seed: np.ndarray, rule: ReluRule):
    """(Outputs, the kink values of this forward) from the explain graph."""
    found = engine(key, rules=rule != ReluRule.GRADIENT)
    graph = found.session.graph
    feeds = found.session.feeds(image, seed, int(rule))
    names = [graph.logits_name, graph.input_grad_name]
    if found.layer:
        layer = graph.layer_outputs[found.layer]
        names += [layer.activation, layer.gradient]
    taps = list(dict.fromkeys(read_tensor(node) for node in found.kinks))
    values = found.session.session.run(names + taps, feeds)
    outputs = Outputs(*values[: len(names)])
    return outputs, dict(zip(taps, values[len(names) :], strict=True))


def run_torch(key: str, image: np.ndarray, seed: np.ndarray, ours: Outputs, values) -> Outputs:
    """Autograd on the module, kinks on the ONNX side (aligned.py), CAM layer found by value."""
    found, net = engine(key), network(key)
    shape = ours.layer_act.shape if ours.layer_act is not None else None
    alignment = Alignment(found.kinks, values, shape)
    x = torch.tensor(image, requires_grad=True)
    with alignment:
        logits = net(x)
    alignment.finished()
    (logits * torch.tensor(seed)).sum().backward()
    result = Outputs(logits.detach().numpy(), x.grad.numpy())
    if found.layer:
        tensor = alignment.tapped_like(ours.layer_act)
        result.layer_act, result.layer_grad = tensor.detach().numpy(), tensor.grad.numpy()
    return result


def captum_applies(model: onnx.ModelProto) -> bool:
    """Whether Captum's maps follow the per-edge rule: Captum replaces the gradient of a
    ReLU module's input tensor as a whole, so where that tensor also feeds another node (a
    skip connection taken before the ReLU), its maps differ from the engine's, which applies
    the rule to the gradient flowing through the ReLU only."""
    uses: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    return all(uses[node.input[0]] == 1 for node in model.graph.node if node.op_type == "Relu")


def run_captum(key: str, image: np.ndarray, seed: np.ndarray, rule: ReluRule, values):
    """Captum's GuidedBackprop or Deconvolution on the module, kinks on the ONNX side; where
    Captum does not apply (captum_applies), the rule applied at each ReLU call in autograd."""
    found, net = engine(key), network(key)
    if not captum_applies(exported(key)):
        name = "guided" if rule == ReluRule.GUIDED else "deconvnet"
        alignment = Alignment(found.kinks, values, relu_rule=name)
        x = torch.tensor(image, requires_grad=True)
        with alignment:
            logits = net(x)
        alignment.finished()
        (logits * torch.tensor(seed)).sum().backward()
        return x.grad.numpy()
    method = GuidedBackprop if rule == ReluRule.GUIDED else Deconvolution
    alignment = Alignment(found.kinks, values)
    with alignment, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attribution = method(Seeded(net, seed)).attribute(torch.tensor(image), target=0)
    alignment.finished()
    return attribution.detach().numpy()
