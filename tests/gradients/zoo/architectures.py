"""The model zoo: timm architectures with random weights, exported as a user would.

Each entry is built in eval() mode and exported with torch.onnx.export (the TorchScript
exporter at opset 17 with a dynamic batch axis, unless the entry says opset 13 or the dynamo
exporter). Norm layers get random statistics and affine parameters (timm's init makes most
of them identities, which would hide a wrong rule), except the entries marked `timm_init`,
which keep timm's own init: zero-init residual gammas, so whole branches give exact zeros
(and LCNet, whose logits with random norms barely depend on its input: the self-check cannot
resolve its gradient then, and refuses it).
Only the current entry's module and export are kept: conftest.py runs each entry's tests
one after another, so that memory holds one architecture, not all of them.
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass, field

import onnx
import torch
from torch import nn

from tests.gradients.zoo import torchvision_stand_in

torchvision_stand_in.install()

import timm  # noqa: E402  (needs the stand-in first)

CLASSES = 10


@dataclass(frozen=True)
class Architecture:
    """One zoo entry: a timm model name, its input size and how it is exported."""

    name: str
    size: int = 64
    exporter: str = "legacy"  # or "dynamo"
    opset: int = 17
    timm_init: bool = False
    options: dict = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        default = (self.exporter, self.opset) == ("legacy", 17)
        variant = "" if default else f"@{self.exporter}{self.opset}"
        return self.name + variant + ("@timm_init" if self.timm_init else "")


ZOO = [
    # ResNets: pre-activation (resnetv2, also with timm's zero-init gammas), ResNeXt, SK,
    # and NF-ResNet's weight-standardised convs
    Architecture("resnet18"), Architecture("resnet50"), Architecture("resnext26ts"),
    Architecture("resnet26d"), Architecture("resnetv2_50"),
    Architecture("resnetv2_50", timm_init=True), Architecture("skresnet18"),
    Architecture("nf_resnet26"),
    # MobileNets, EfficientNets and MnasNets, with TensorFlow "same" padding (tf_)
    Architecture("mobilenetv2_050"), Architecture("mobilenetv3_small_100"),
    Architecture("tf_mobilenetv3_small_100"), Architecture("lcnet_050", timm_init=True),
    Architecture("efficientnet_b0"), Architecture("efficientnet_lite0"),
    Architecture("tf_efficientnet_lite0"), Architecture("mnasnet_small"),
    Architecture("mixnet_s"), Architecture("ghostnet_100"),
    # DenseNet, Inception, DLA, CSP and Darknet, VoVNet
    Architecture("densenet121"), Architecture("inception_v3", size=80), Architecture("dla34"),
    Architecture("cspresnet50"), Architecture("darknet53"), Architecture("ese_vovnet19b_dw"),
    # RegNet, RepVGG, HRNet, ConvNeXt, PoolFormer, FastViT, a ViT
    Architecture("regnetx_002"), Architecture("regnety_002"), Architecture("repvgg_a0"),
    Architecture("hrnet_w18_small"), Architecture("convnext_atto"),
    Architecture("poolformer_s12"), Architecture("fastvit_t8"),
    Architecture("deit_tiny_patch16_224", options={"img_size": 64}),
    # other exporters: opset 13 (HardSwish written as HardSigmoid * x), the dynamo exporter
    Architecture("resnet18", opset=13), Architecture("mobilenetv3_small_100", opset=13),
    Architecture("mobilenetv3_small_100", exporter="dynamo", opset=18),
    Architecture("convnext_atto", exporter="dynamo", opset=18),
]  # fmt: skip
BY_KEY = {arch.key: arch for arch in ZOO}


def randomise_norms(net: nn.Module, generator: torch.Generator) -> None:
    """Random statistics and affine parameters for every norm layer."""
    norms = (nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)
    for module in net.modules():
        if not isinstance(module, norms):
            continue
        if getattr(module, "weight", None) is not None:
            module.weight.data.uniform_(0.5, 1.5, generator=generator)
            module.bias.data.uniform_(-0.2, 0.2, generator=generator)
        if isinstance(module, nn.BatchNorm2d) and module.running_mean is not None:
            module.running_mean.uniform_(-0.2, 0.2, generator=generator)
            module.running_var.uniform_(0.5, 1.5, generator=generator)


@functools.lru_cache(maxsize=1)  # one entry at a time: conftest.py runs them in turn
def network(key: str) -> nn.Module:
    """The zoo entry's torch module, eval mode, random weights (seeded by its name)."""
    arch = BY_KEY[key]
    torch.manual_seed(sum(map(ord, arch.name)))
    net = timm.create_model(arch.name, pretrained=False, num_classes=CLASSES, **arch.options)
    if not arch.timm_init:
        randomise_norms(net, torch.Generator().manual_seed(1))
    for module in net.modules():  # the reference wraps activations; in-place ones would clash
        if hasattr(module, "inplace"):
            module.inplace = False
    return net.eval()


@functools.lru_cache(maxsize=1)  # one entry at a time: conftest.py runs them in turn
def exported(key: str) -> onnx.ModelProto:
    """The entry exported to ONNX with a dynamic batch axis (input `image`, output `logits`)."""
    arch, net = BY_KEY[key], network(key)
    example = (torch.randn(2, 3, arch.size, arch.size),)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if arch.exporter == "dynamo":
            batch = {"x": {0: torch.export.Dim("N", min=1, max=64)}}
            program = torch.onnx.export(
                net, example, dynamo=True, opset_version=arch.opset, input_names=["image"],
                output_names=["logits"], dynamic_shapes=batch, verbose=False,
            )  # fmt: skip
            return program.model_proto
        buffer = io.BytesIO()
        torch.onnx.export(
            net, example, buffer, dynamo=False, opset_version=arch.opset, input_names=["image"],
            output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
        )  # fmt: skip
    return onnx.load_from_string(buffer.getvalue())
