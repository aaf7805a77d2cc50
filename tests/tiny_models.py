"""Tiny ONNX classifiers built with onnx.helper, written in store layout for the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from app.runtime.loader import LoadOptions, bare_manifest, load_graph
from app.runtime.model import RunningModel
from app.runtime.sessions import SessionFactory
from app.store.layout import MODEL_FILE, sha256_of, write_manifest
from app.store.manifest import Manifest

TEST_SESSIONS = SessionFactory(intra_op_threads=1)


def tiny_cnn(
    channels: int, size: int, classes: int, seed: int = 0, activation: str = "Relu"
) -> onnx.ModelProto:
    """Conv 3x3 stride 2 -> activation -> GlobalAveragePool -> Flatten -> Gemm, random weights."""
    rng = np.random.default_rng(seed)
    weights = {
        "conv_w": rng.normal(0, 0.5, (8, channels, 3, 3)),
        "conv_b": rng.normal(0, 0.1, (8,)),
        "fc_w": rng.normal(0, 0.5, (classes, 8)),
        "fc_b": rng.normal(0, 0.1, (classes,)),
    }
    nodes = [
        helper.make_node(
            "Conv", ["input", "conv_w", "conv_b"], ["conv"], strides=[2, 2], pads=[1] * 4
        ),
        helper.make_node(activation, ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", channels, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def tiny_vit(channels: int, size: int, classes: int, seed: int = 0) -> onnx.ModelProto:
    """A token model: 4x4 patch embedding (Conv), one self-attention block over the patches,
    mean over the tokens, Gemm. Its last conv is the patch embedding."""
    rng = np.random.default_rng(seed)
    width, tokens = 8, (size // 4) ** 2
    weights = {
        "patch_w": rng.normal(0, 0.3, (width, channels, 4, 4)),
        "q_w": rng.normal(0, 0.3, (width, width)),
        "k_w": rng.normal(0, 0.3, (width, width)),
        "v_w": rng.normal(0, 0.3, (width, width)),
        "fc_w": rng.normal(0, 0.5, (classes, width)),
        "fc_b": rng.normal(0, 0.1, (classes,)),
    }
    shapes = {"to_tokens": np.array([0, width, tokens], np.int64)}
    nodes = [
        helper.make_node("Conv", ["input", "patch_w"], ["patches"], strides=[4, 4]),
        helper.make_node("Reshape", ["patches", "to_tokens"], ["flat"]),
        helper.make_node("Transpose", ["flat"], ["tokens"], perm=[0, 2, 1]),  # (N, T, D)
        helper.make_node("MatMul", ["tokens", "q_w"], ["q"]),
        helper.make_node("MatMul", ["tokens", "k_w"], ["k"]),
        helper.make_node("MatMul", ["tokens", "v_w"], ["v"]),
        helper.make_node("Transpose", ["k"], ["k_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "k_t"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["attention"], axis=-1),
        helper.make_node("MatMul", ["attention", "v"], ["mixed"]),
        helper.make_node("Add", ["tokens", "mixed"], ["residual"]),
        helper.make_node("ReduceMean", ["residual"], ["pooled"], axes=[1], keepdims=0),
        helper.make_node("Gemm", ["pooled", "fc_w", "fc_b"], ["logits"], transB=1),
    ]
    initializers = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    initializers += [numpy_helper.from_array(v, k) for k, v in shapes.items()]
    graph = helper.make_graph(
        nodes,
        "tiny_vit",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", channels, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def manifest_fields(name: str, channels: int, size: int, classes: int, **preprocess: Any) -> dict:
    return {
        "name": name,
        "description": "a tiny test model",
        "labels": [f"class_{i}" for i in range(classes)],
        "input": {"name": "input", "channels": channels, "height": size, "width": size},
        "preprocess": {"mean": [0.5] * channels, "std": [0.25] * channels, **preprocess},
        "layers": {"cam": "relu", "features": ["relu"]},
        "provenance": {
            "architecture": "tiny_cnn",
            "data": "none (random weights)",
            "export_command": "tests/tiny_models.py",
            "created": "2026-01-01T00:00:00+00:00",
        },
    }


def write_store_entry(store: Path, model: onnx.ModelProto, fields: dict, version: int = 1) -> Path:
    folder = store / fields["name"] / str(version)
    folder.mkdir(parents=True)
    onnx.save(model, folder / MODEL_FILE)
    write_manifest(
        Manifest.model_validate({**fields, "sha256": sha256_of(folder / MODEL_FILE)}), folder
    )
    return folder


def running(model: onnx.ModelProto, fields: dict | None = None) -> RunningModel:
    """A RunningModel straight from a graph, with no store folder: the manifest is `fields`,
    or the graph's bare manifest (pixels as given, one label per output)."""
    manifest = bare_manifest(model)
    if fields is not None:
        manifest = Manifest.model_validate({**fields, "sha256": "0" * 64})
    return load_graph(model, manifest, LoadOptions(sessions=TEST_SESSIONS))
