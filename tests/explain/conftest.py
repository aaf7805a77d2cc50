"""Random-weight nets from tests/nets.py, exported to ONNX, with their gradient engines."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from app.config import PROJECT_ROOT
from app.explain.base import Budget, ExplainInput
from app.export.datasets import read_idx
from app.export.pretrained import PRETRAINED
from app.imaging.decode import ImageLimits
from app.imaging.tensors import to_input_array
from app.runtime.engine import GradientEngine
from app.runtime.loader import LoadOptions, bare_manifest, load_store
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory
from app.runtime.taps import LayerTaps
from bench.shipped import shipped_torch
from tests.conftest import SHIPPED_STORE, shared_data
from tests.nets import export_onnx, make_net, onnx_tensor_of
from tests.tiny_models import running

UNLIMITED = 10**9  # forward passes: the method tests are not about the budget

REFERENCE_NETS = ("mnist_cnn", "resnet_tiny")
SHIPPED_NETS = ("mnist_cnn", "cifar_resnet")  # model_store's, with their torch twins
SHIPPED_SAMPLES = {
    "mnist_cnn": "3_*.png",
    "lenet5": "3_*.png",
    "cifar_resnet": "cat_*.png",
    "efficientnet_lite0": "chelsea.jpg",
}


@dataclass
class Case:
    """A torch net, its ONNX twin as a running model, one input and the CAM layer in both
    worlds."""

    net: nn.Module
    model: RunningModel
    image: np.ndarray  # (1, C, H, W)
    layer_module: nn.Module
    layer_tensor: str
    classes: int

    @property
    def engine(self) -> GradientEngine:
        return self.model.engine

    @property
    def taps(self) -> LayerTaps:  # forward-only runs of the ONNX twin
        return self.model.taps

    def given(self, targets: list[int]) -> ExplainInput:
        return ExplainInput(
            model=self.model,
            image=self.image.copy(),
            requested=targets,
            budget=Budget(UNLIMITED),
            layer=self.layer_tensor,
        )

    def tensor(self) -> torch.Tensor:
        return torch.from_numpy(self.image.copy()).requires_grad_()


@cache
def build_case(name: str, seed: int = 0) -> Case:
    net = make_net(name, seed)
    model = export_onnx(net)
    layer_tensor = onnx_tensor_of(model, net.cam_layer)
    fields = bare_manifest(model).model_dump(exclude={"sha256"})
    running_net = running(model, {**fields, "layers": {"cam": layer_tensor}})
    assert running_net.engine.available, running_net.engine.error
    rng = np.random.default_rng(seed)
    image = rng.normal(0, 1, (1, *net.input_shape)).astype(np.float32)
    classes = int(net(torch.from_numpy(image)).shape[1])
    layer_module = net.get_submodule(net.cam_layer)
    return Case(net, running_net, image, layer_module, layer_tensor, classes)


@cache
def shipped_case(name: str) -> Case:
    """A model of model_store and its torch twin (same weights), a shipped sample picture
    preprocessed as the server does, and the manifest's CAM layer in both worlds."""
    net, _ = shipped_torch(name)
    model = load_store(SHIPPED_STORE, LoadOptions(SessionFactory(1))).get(name)
    sample = next((PROJECT_ROOT / "static" / "samples" / name).glob(SHIPPED_SAMPLES[name]))
    image = model.preprocess([sample.read_bytes()], ImageLimits())
    layer = model.layers.cam_layer
    assert layer is not None
    module = net.get_submodule(".".join(layer.strip("/").split("/")[:-1]))  # /a/b/Op_output_0
    return Case(net, model, image, module, layer, model.manifest.classes)


def with_forward(given: ExplainInput, forward: Callable[[np.ndarray], np.ndarray]) -> ExplainInput:
    """`given`, its model's forward runs answered by `forward` (batch -> outputs (N, K)): a
    stand-in network whose answer a test can work out by hand."""
    model = copy.copy(given.model)
    model.logits = forward  # type: ignore[method-assign]
    model.segments = _NoCuts()  # type: ignore[assignment]  # crops would run the real network
    return dataclasses.replace(given, model=model)


class _NoCuts:
    """Segments of a stand-in network: no cuts, so patch scores take the forward runs."""

    stem = SimpleNamespace(cuts=(), total_cost=0.0)

    def memo(self, key: object, work: Callable[[], object]) -> object:
        return work()


@pytest.fixture(params=REFERENCE_NETS)
def case(request: pytest.FixtureRequest) -> Case:
    return build_case(request.param)


@pytest.fixture(params=SHIPPED_NETS)
def shipped(request: pytest.FixtureRequest) -> Case:
    """Each shipped model of SHIPPED_NETS with its torch twin and a sample picture."""
    return shipped_case(request.param)


@pytest.fixture(scope="session")
def photo_case() -> Case:
    """model_store's efficientnet_lite0 (ReLU6, depthwise convolutions, BatchNorms folded) with
    its torch twin, the chelsea cat photo and the head's ReLU6 (1280@7x7) as the CAM layer.
    Skipped without the weights package (the dev extra) that the twin is loaded from."""
    pytest.importorskip(PRETRAINED["efficientnet_lite0"].module)
    return shipped_case("efficientnet_lite0")


def torch_layer_activations_and_gradients(
    case: Case, target: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The CAM layer's activation and d(logit[target])/d(activation) by torch autograd."""
    stored: dict[str, torch.Tensor] = {}
    handle = case.layer_module.register_forward_hook(lambda _m, _i, out: stored.update(a=out))
    try:
        logits = case.net(torch.from_numpy(case.image.copy()))
    finally:
        handle.remove()
    (gradient,) = torch.autograd.grad(logits[0, target], stored["a"])
    return stored["a"].detach(), gradient


@dataclass
class Digits:
    """The shipped mnist_cnn and held-out MNIST digits preprocessed as the server does."""

    model: RunningModel
    images: np.ndarray  # (N, 1, 28, 28) model input
    labels: np.ndarray  # (N,)

    def given(self, row: int) -> ExplainInput:
        """The explanation input of digit `row`, its label as the target."""
        return ExplainInput(
            model=self.model,
            image=self.images[row : row + 1].copy(),
            requested=[int(self.labels[row])],
            budget=Budget(UNLIMITED),
            layer=self.model.layers.cam_layer,
        )


@pytest.fixture(scope="session")
def held_out_digits() -> Digits:
    """20 of the last 5,000 training digits (never trained on), and model_store's mnist_cnn."""
    mnist = shared_data("mnist")
    model = load_store(SHIPPED_STORE, LoadOptions(SessionFactory(1))).get("mnist_cnn")
    ids = np.arange(-5000, 0, 250)  # 20 digits spread over the held-out split
    raw = read_idx(mnist / "train-images-idx3-ubyte.gz")[ids]  # (20, 28, 28) uint8
    spec, preprocess = model.manifest.input, model.manifest.preprocess
    images = np.stack([to_input_array(Image.fromarray(d), spec, preprocess) for d in raw])
    return Digits(model, images, read_idx(mnist / "train-labels-idx1-ubyte.gz")[ids])


@pytest.fixture(scope="session")
def photo_input() -> ExplainInput:
    """The shipped efficientnet_lite0 (ReLU6 everywhere) and a cat photo, target tabby."""
    model = load_store(SHIPPED_STORE, LoadOptions(SessionFactory(1))).get("efficientnet_lite0")
    photo = PROJECT_ROOT / "static" / "samples" / "efficientnet_lite0" / "chelsea.jpg"
    image = model.preprocess([photo.read_bytes()], ImageLimits())
    return ExplainInput(model, image, [281], Budget(10**9))
