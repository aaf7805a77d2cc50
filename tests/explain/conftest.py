"""Random-weight nets from tests/nets.py, exported to ONNX, with their gradient engines."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from app.explain.base import ExplainInput
from app.explain.engine import GradientEngine
from app.export.datasets import read_idx
from app.imaging import to_input_array
from app.store.loader import LoadedModel
from app.store.registry import load_registry
from app.store.taps import LayerTaps
from tests.conftest import SHIPPED_STORE, shared_data
from tests.nets import export_onnx, make_net, onnx_tensor_of

REFERENCE_NETS = ("mnist_cnn", "resnet_tiny")


@dataclass
class Case:
    """A torch net, its ONNX twin's engine, one input and the CAM layer in both worlds."""

    net: nn.Module
    engine: GradientEngine
    image: np.ndarray  # (1, C, H, W)
    layer_module: nn.Module
    layer_tensor: str
    classes: int
    taps: LayerTaps  # forward-only runs of the ONNX twin

    def given(self, targets: list[int]) -> ExplainInput:
        return ExplainInput(
            image=self.image.copy(),
            targets=targets,
            engine=self.engine,
            classes=self.classes,
            layer=self.layer_tensor,
            forward=lambda batch: self.taps.run(batch, ())[0],
            tapped=self.taps.run,
        )

    def tensor(self) -> torch.Tensor:
        return torch.from_numpy(self.image.copy()).requires_grad_()


@cache
def build_case(name: str, seed: int = 0) -> Case:
    net = make_net(name, seed)
    model = export_onnx(net)
    layer_tensor = onnx_tensor_of(model, net.cam_layer)
    engine = GradientEngine(model, (layer_tensor,))
    assert engine.available, engine.error
    rng = np.random.default_rng(seed)
    image = rng.normal(0, 1, (1, *net.input_shape)).astype(np.float32)
    classes = int(net(torch.from_numpy(image)).shape[1])
    layer_module = net.get_submodule(net.cam_layer)
    taps = LayerTaps(model, "input", threads=1)
    return Case(net, engine, image, layer_module, layer_tensor, classes, taps)


@pytest.fixture(params=REFERENCE_NETS)
def case(request: pytest.FixtureRequest) -> Case:
    return build_case(request.param)


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

    model: LoadedModel
    images: np.ndarray  # (N, 1, 28, 28) model input
    labels: np.ndarray  # (N,)

    def given(self, row: int) -> ExplainInput:
        """The explanation input of digit `row`, its label as the target."""
        return ExplainInput(
            image=self.images[row : row + 1].copy(),
            targets=[int(self.labels[row])],
            engine=self.model.engine,
            classes=10,
            layer=self.model.cam_layer,
            pixel_mean=self.model.manifest.preprocess.mean,
            pixel_std=self.model.manifest.preprocess.std,
            forward=self.model.logits,
            tapped=self.model.taps.run,
        )


@pytest.fixture(scope="session")
def held_out_digits() -> Digits:
    """20 of the last 5,000 training digits (never trained on), and model_store's mnist_cnn."""
    mnist = shared_data("mnist")
    model = load_registry(SHIPPED_STORE, threads=1).get("mnist_cnn")
    ids = np.arange(-5000, 0, 250)  # 20 digits spread over the held-out split
    raw = read_idx(mnist / "train-images-idx3-ubyte.gz")[ids]  # (20, 28, 28) uint8
    spec, preprocess = model.manifest.input, model.manifest.preprocess
    images = np.stack([to_input_array(Image.fromarray(d), spec, preprocess) for d in raw])
    return Digits(model, images, read_idx(mnist / "train-labels-idx1-ubyte.gz")[ids])
