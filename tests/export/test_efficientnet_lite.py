"""EfficientNet-Lite0, our own code: its size, TensorFlow's SAME padding (checked against the
general formula, not our shortcut), its ONNX export, and the gradient engine's cover."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from app.export import onnx_export
from app.export.efficientnet_lite import (
    EfficientNetLite,
    SameConv2d,
    check_input_size,
    efficientnet_lite0,
)
from app.export.pretrained import PRETRAINED
from app.runtime.derived import DerivedSessions
from app.runtime.engine import GradientEngine
from tests.tiny_models import TEST_SESSIONS


@pytest.fixture(scope="module")
def random_lite0() -> EfficientNetLite:
    torch.manual_seed(0)
    model = efficientnet_lite0().eval()
    for module in model.modules():  # BatchNorm statistics that are not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model


@pytest.fixture(scope="module")
def exported(random_lite0) -> onnx.ModelProto:
    return onnx.load_from_string(onnx_export.export_onnx(random_lite0, torch.rand(2, 3, 224, 224)))


def test_lite0_has_the_4_652_008_parameters_of_the_paper_and_1000_outputs(random_lite0):
    assert sum(p.numel() for p in random_lite0.parameters()) == 4_652_008
    assert random_lite0(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)
    assert len(random_lite0._blocks) == 16


def tf_same_padded(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's SAME rule in general: output ceil(n / s), total pad max((out - 1) s + k -
    n, 0), the smaller half before."""
    pads = []
    for size in reversed(x.shape[-2:]):  # F.pad wants the last axis first
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("size", [224, 112, 56, 28, 14, 8])
def test_a_strided_convolution_pads_as_tensorflow_same_on_even_sizes(kernel, size):
    torch.manual_seed(kernel)
    conv = SameConv2d(4, 4, kernel, 2, 0, groups=4, bias=False)
    x = torch.randn(1, 4, size, size)
    expected = F.conv2d(tf_same_padded(x, kernel, 2), conv.weight, None, 2, 0, 1, 4)
    ours = conv(x)
    assert ours.shape[-1] == size // 2
    torch.testing.assert_close(ours, expected)


def test_an_input_that_reaches_a_stride_2_layer_at_odd_size_is_refused():
    check_input_size(224)
    with pytest.raises(ValueError, match="odd size 115"):
        check_input_size(230)  # 230 -> 115 at the second stride-2 layer


def test_the_export_has_one_conv_per_convolution_no_pad_and_batchnorm_folded(exported):
    ops = Counter(node.op_type for node in exported.graph.node)
    assert ops["Conv"] == 1 + 16 * 2 + 15 + 1  # stem, depthwise + project, expand, head
    assert ops["Pad"] == ops["BatchNormalization"] == 0
    strided = [
        n for n in exported.graph.node if n.op_type == "Conv" and _ints(n, "strides")[0] == 2
    ]
    assert {tuple(_ints(n, "pads")) for n in strided} == {(0, 0, 1, 1), (1, 1, 2, 2)}
    assert ops["Add"] == 9  # the residual blocks


def _ints(node: onnx.NodeProto, name: str) -> list[int]:
    return next(list(a.ints) for a in node.attribute if a.name == name)


def test_the_export_matches_torch_on_a_batch_with_a_dynamic_batch_axis(random_lite0, exported):
    session = ort.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])
    for count in (1, 3):
        batch = torch.randn(count, 3, 224, 224, generator=torch.Generator().manual_seed(count))
        (ours,) = session.run(None, {"input": batch.numpy()})
        with torch.no_grad():
            expected = random_lite0(batch).numpy()
        np.testing.assert_allclose(ours, expected, atol=1e-4, rtol=1e-4)


def test_the_manifest_layers_are_tensors_of_the_export_and_the_engine_covers_them(exported):
    spec = PRETRAINED["efficientnet_lite0"]
    tensors = {name for node in exported.graph.node for name in node.output}
    assert {spec.cam_layer, *spec.feature_layers} <= tensors
    pool = next(n for n in exported.graph.node if n.op_type == "GlobalAveragePool")
    assert pool.input[0] == spec.cam_layer  # the last convolution block, as CAMs take it
    engine = GradientEngine(exported, TEST_SESSIONS, DerivedSessions(), (spec.cam_layer,))
    assert engine.available, engine.error


def test_symmetric_padding_is_a_different_network_on_the_same_weights(random_lite0):
    symmetric = EfficientNetLite(padding="symmetric").eval()
    symmetric.load_state_dict(random_lite0.state_dict())
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert not torch.allclose(symmetric(x), random_lite0(x), rtol=1e-4, atol=0)
