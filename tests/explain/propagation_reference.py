"""The references of LRP and DeepLIFT: Captum's LRP ready for the nets' Flatten, Zennit's
EpsilonGammaBox composite (imported beside the torchvision stand-in), and small torch nets
exported as running models, for cases worked by hand."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import onnx
import torch
from torch import nn

from app.explain.base import Budget, ExplainInput
from app.runtime.loader import bare_manifest
from app.runtime.model import RunningModel
from tests.gradients.zoo import torchvision_stand_in
from tests.tiny_models import running

torchvision_stand_in.install()
from zennit.composites import EpsilonGammaBox  # noqa: E402
from zennit.layer import Sum  # noqa: E402
from zennit.rules import Pass  # noqa: E402


def exported(net: nn.Module, shape: tuple[int, ...]) -> RunningModel:
    """`net` (eval mode) as a running model of input (N, *shape)."""
    model = onnx_of(net, shape)
    return running(model, bare_manifest(model).model_dump(exclude={"sha256"}))


def onnx_of(net: nn.Module, shape: tuple[int, ...]) -> onnx.ModelProto:
    """`net` (eval mode) in ONNX, input (N, *shape)."""
    buffer = io.BytesIO()
    torch.onnx.export(
        net.eval(), torch.zeros(1, *shape), buffer, input_names=["input"],
        output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}},
        dynamo=False,
    )  # fmt: skip
    return onnx.load_from_string(buffer.getvalue())


def given_for(model: RunningModel, image: np.ndarray, target: int, baseline=None) -> ExplainInput:
    return ExplainInput(model, image.copy(), [target], Budget(10**9), baseline=baseline)


class FlattenInForward(nn.Module):
    """A Sequential's layers with its Flatten modules done in `forward` instead: Captum's LRP
    refuses leaf modules it has no rule for, and Flatten only reshapes."""

    def __init__(self, net: nn.Sequential) -> None:
        super().__init__()
        self.flat_before = [isinstance(module, nn.Flatten) for module in net]
        self.steps = nn.ModuleList(m for m in net if not isinstance(m, nn.Flatten))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = iter(self.steps)
        for flat in self.flat_before:
            x = torch.flatten(x, 1) if flat else next(steps)(x)
        return x


def captum_lrp_net(net: nn.Sequential, rule: Callable[[], object]) -> nn.Module:
    """`net` for Captum's LRP with `rule()` on every layer."""
    twin = FlattenInForward(net)
    for module in twin.steps:
        if isinstance(module, nn.Conv2d | nn.Linear | nn.MaxPool2d):
            module.rule = rule()  # type: ignore[assignment]
    return twin


def zennit_relevance(
    net: nn.Module,
    image: np.ndarray,
    target: int,
    low,
    high,
    epsilon: float,
    gamma: float,
    layer_map=(),
) -> np.ndarray:
    """Zennit's EpsilonGammaBox relevance of the input, the target logit as output relevance."""
    composite = EpsilonGammaBox(
        low=torch.from_numpy(low), high=torch.from_numpy(high), epsilon=epsilon, gamma=gamma,
        stabilizer=1e-6, layer_map=list(layer_map),
    )  # fmt: skip
    x = torch.from_numpy(image.copy()).requires_grad_()
    with composite.context(net) as modified:
        logits = modified(x)
        seed = torch.zeros_like(logits)
        seed[0, target] = logits[0, target].detach()
        (relevance,) = torch.autograd.grad(logits, x, grad_outputs=seed)
    return relevance.detach().numpy()


__all__ = ["Pass", "Sum", "captum_lrp_net", "exported", "given_for", "onnx_of", "zennit_relevance"]
