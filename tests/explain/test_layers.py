"""CAM layers: the default one, and none for a token model (attention after its last conv)."""

from __future__ import annotations

from app.explain.layers import attention_after, cam_refusal, conv_layers, default_cam_layer
from tests.tiny_models import tiny_cnn, tiny_vit


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
