"""EfficientNet-Lite0 (Tan & Le 2019, https://arxiv.org/abs/1905.11946; the Lite variant of
the TensorFlow TPU repository): EfficientNet-B0's stages of inverted-residual (MBConv) blocks,
with ReLU6 for Swish, no squeeze-excite, and a stem and head that are not scaled.

Module names follow the EfficientNet-PyTorch port (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`
...), so a state dict in that naming loads by name (weights.py checks it strictly). The
activations are modules of their own (no weights) so that ONNX tensors get readable names:
`/head_act/Clip_output_0` is the last convolution block's output.

Padding: the weights were trained in TensorFlow with 'SAME' padding, which pads a stride-2
layer on an even-sized input by one pixel less before than after. Symmetric padding shifts
every strided layer by a pixel: on the sample photos it lowers the expected class's mean
probability from 0.44 to 0.39 and one photo in eight falls out of the top-5
(`python -m bench.lite0_preprocessing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BN_EPSILON = 1e-3  # TensorFlow's, which the weights were trained with
STEM_WIDTH, HEAD_WIDTH, CLASSES = 32, 1280, 1000
Padding = Literal["tf_same", "symmetric"]


@dataclass(frozen=True)
class Stage:
    """`repeats` MBConv blocks; the first has `stride` and changes the width to `outputs`."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    outputs: int


LITE0_STAGES = (
    Stage(1, 3, 1, 1, 16),  # blocks 0: 16@112x112
    Stage(2, 3, 2, 6, 24),  # blocks 1-2: 24@56x56
    Stage(2, 5, 2, 6, 40),  # blocks 3-4: 40@28x28
    Stage(3, 3, 2, 6, 80),  # blocks 5-7: 80@14x14
    Stage(3, 5, 1, 6, 112),  # blocks 8-10: 112@14x14
    Stage(4, 5, 2, 6, 192),  # blocks 11-14: 192@7x7
    Stage(1, 3, 1, 6, 320),  # block 15: 320@7x7
)


class SameConv2d(nn.Conv2d):
    """A stride-2 convolution with TensorFlow's 'SAME' padding on an even-sized input: k - 2
    pixels in all, the odd one at the bottom and right. It exports as one ONNX Conv with
    those asymmetric pads."""

    def pads(self) -> tuple[int, int]:
        """(before, after) on each spatial axis."""
        total = self.kernel_size[0] - 2
        return total // 2, total - total // 2

    def forward(self, x: Tensor) -> Tensor:
        before, after = self.pads()
        if torch.onnx.is_in_onnx_export():
            return _PaddedConv.apply(x, self.weight, self.stride[0], before, after, self.groups)
        return super().forward(F.pad(x, (before, after, before, after)))


class _PaddedConv(torch.autograd.Function):
    """Export only: F.pad then conv2d, written to ONNX as a single Conv node (the exporter
    would write the pad as a Pad fed by a dozen shape ops)."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, weight: Tensor, stride: int, before: int, after: int, groups: int
    ) -> Tensor:
        padded = F.pad(x, (before, after, before, after))
        return F.conv2d(padded, weight, None, stride, 0, 1, groups)

    @staticmethod
    def symbolic(
        g: Any, x: Any, weight: Any, stride: int, before: int, after: int, groups: int
    ) -> Any:
        return g.op(
            "Conv",
            x,
            weight,
            kernel_shape_i=weight.type().sizes()[2:],
            strides_i=[stride, stride],
            pads_i=[before, before, after, after],
            dilations_i=[1, 1],
            group_i=groups,
        )


def conv(
    inputs: int, outputs: int, kernel: int, stride: int, padding: Padding, groups: int = 1
) -> nn.Conv2d:
    """A bias-free convolution whose output is size / stride, padded as asked."""
    if padding == "tf_same" and stride == 2:
        return SameConv2d(inputs, outputs, kernel, stride, 0, groups=groups, bias=False)
    return nn.Conv2d(inputs, outputs, kernel, stride, kernel // 2, groups=groups, bias=False)


def check_input_size(size: int, stages: tuple[Stage, ...] = LITE0_STAGES) -> None:
    """Refuse a size that some stride-2 layer would see odd (SAME padding differs there)."""
    for stride in (2, *(stage.stride for stage in stages)):
        if stride == 2 and size % 2:
            raise ValueError(f"an input of that size reaches a stride-2 layer at odd size {size}")
        size //= stride


class MBConv(nn.Module):
    """Inverted residual: 1x1 expansion (absent when `expand` is 1), depthwise k x k, 1x1
    projection with no activation; the input is added back when the shape allows it."""

    def __init__(self, inputs: int, stage: Stage, stride: int, padding: Padding) -> None:
        super().__init__()
        hidden = inputs * stage.expand
        if stage.expand != 1:
            self._expand_conv = nn.Conv2d(inputs, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=BN_EPSILON)
            self.expand_act = nn.ReLU6()
        self._depthwise_conv = conv(hidden, hidden, stage.kernel, stride, padding, groups=hidden)
        self._bn1 = nn.BatchNorm2d(hidden, eps=BN_EPSILON)
        self.depthwise_act = nn.ReLU6()
        self._project_conv = nn.Conv2d(hidden, stage.outputs, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(stage.outputs, eps=BN_EPSILON)
        self.residual = stride == 1 and inputs == stage.outputs

    def forward(self, x: Tensor) -> Tensor:
        out = x
        if hasattr(self, "_expand_conv"):
            out = self.expand_act(self._bn0(self._expand_conv(out)))  # (N, hidden, H, W)
        out = self.depthwise_act(self._bn1(self._depthwise_conv(out)))  # (N, hidden, H/s, W/s)
        out = self._bn2(self._project_conv(out))  # (N, outputs, H/s, W/s)
        return x + out if self.residual else out


class EfficientNetLite(nn.Module):
    """Stem (3x3 stride 2), the MBConv stages, a 1x1 head to 1280 channels, global average
    pooling and one linear layer (dropout in training only): 4,652,008 parameters for Lite0."""

    def __init__(
        self, stages: tuple[Stage, ...] = LITE0_STAGES, padding: Padding = "tf_same"
    ) -> None:
        super().__init__()
        self._conv_stem = conv(3, STEM_WIDTH, 3, 2, padding)
        self._bn0 = nn.BatchNorm2d(STEM_WIDTH, eps=BN_EPSILON)
        self.stem_act = nn.ReLU6()
        blocks, width = [], STEM_WIDTH
        for stage in stages:
            for repeat in range(stage.repeats):
                blocks.append(MBConv(width, stage, stage.stride if repeat == 0 else 1, padding))
                width = stage.outputs
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(width, HEAD_WIDTH, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(HEAD_WIDTH, eps=BN_EPSILON)
        self.head_act = nn.ReLU6()
        self._dropout = nn.Dropout(0.2)
        self._fc = nn.Linear(HEAD_WIDTH, CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem_act(self._bn0(self._conv_stem(x)))  # (N, 32, 112, 112)
        for block in self._blocks:
            x = block(x)
        x = self.head_act(self._bn1(self._conv_head(x)))  # (N, 1280, 7, 7)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)  # (N, 1280)
        return self._fc(self._dropout(x))  # (N, 1000)


def efficientnet_lite0() -> EfficientNetLite:
    return EfficientNetLite(LITE0_STAGES, "tf_same")
