"""What a graph offers the methods: CAM layers, the default one, static shapes at batch 1."""

import pytest

from app.errors import NoConvLayerError, UnknownLayerError
from app.runtime.layers import (
    LayerIndex,
    attention_after,
    cam_refusal,
    conv_layers,
    default_cam_layer,
    static_shapes,
)
from tests.tiny_models import tiny_cnn, tiny_vit


def test_static_shapes_put_the_batch_axis_at_one():
    shapes = static_shapes(tiny_cnn(3, 16, 4))
    assert shapes["input"] == (1, 3, 16, 16)
    assert shapes["conv"] == (1, 8, 8, 8)
    assert shapes["logits"] == (1, 4)


def test_conv_layers_are_each_conv_and_the_activation_that_alone_reads_it():
    assert conv_layers(tiny_cnn(1, 28, 10)) == ["conv", "relu"]


def test_the_default_cam_layer_is_the_last_conv_layer_unless_the_manifest_names_one():
    model = tiny_cnn(1, 28, 10)
    assert LayerIndex.of(model, None).cam_layer == "relu"
    assert LayerIndex.of(model, "conv").cam_layer == "conv"


def test_a_cam_reads_the_requested_conv_layer_or_the_default():
    index = LayerIndex.of(tiny_cnn(1, 28, 10), None)
    assert (index.cam(None), index.cam("conv")) == ("relu", "conv")
    with pytest.raises(UnknownLayerError):
        index.cam("pool")


def test_a_model_without_convolutions_has_no_cam_layer():
    with pytest.raises(NoConvLayerError):
        LayerIndex(None, (), {}).cam(None)


def test_a_cnn_has_its_last_conv_activation_as_default_cam_layer():
    model = tiny_cnn(3, 16, 4)
    assert conv_layers(model) == ["conv", "relu"]
    assert default_cam_layer(model, None) == "relu"
    assert not attention_after(model, "relu")


def test_a_token_model_has_no_default_cam_layer_and_the_refusal_says_why():
    model = tiny_vit(3, 16, 4)
    assert conv_layers(model) == ["patches"]
    assert attention_after(model, "patches")
    assert default_cam_layer(model, None) is None
    assert "attention" in cam_refusal(model)


def test_a_manifest_layer_wins_even_on_a_token_model():
    assert default_cam_layer(tiny_vit(3, 16, 4), "patches") == "patches"
