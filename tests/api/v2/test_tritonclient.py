"""The official tritonclient.http client against a real uvicorn serving the tiny store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient

from app.runtime.loader import load_store
from bench.server import running_server


@pytest.fixture(scope="module")
def triton(tiny_store: Path) -> Iterator[object]:
    env = {"LANTERN_MODEL_STORE": str(tiny_store), "LANTERN_DEFAULT_MODEL": "tiny_digits"}
    with running_server(env) as base:
        client = httpclient.InferenceServerClient(base.removeprefix("http://"))
        yield client
        client.close()


@pytest.fixture(scope="module")
def tiny_digits(tiny_store: Path):
    return load_store(tiny_store).get("tiny_digits")


def _fp32_input(batch: np.ndarray, binary: bool) -> object:
    tensor = httpclient.InferInput("input", list(batch.shape), "FP32")
    return tensor.set_data_from_numpy(batch, binary_data=binary)


def test_tritonclient_reads_server_and_model_metadata(triton):
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("tiny_digits")
    server = triton.get_server_metadata()
    assert {"classification", "binary_tensor_data"} <= set(server["extensions"])
    model = triton.get_model_metadata("tiny_digits", "1")
    assert model["platform"] == "onnxruntime_onnx"
    assert model["versions"] == ["1", "2"]
    assert model["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 28, 28]}]
    assert model["outputs"][0]["shape"] == [-1, 10]


@pytest.mark.parametrize("binary", [False, True])
def test_an_fp32_infer_equals_the_in_process_logits(triton, tiny_digits, binary):
    batch = np.random.default_rng(0).normal(size=(3, 1, 28, 28)).astype(np.float32)
    output = httpclient.InferRequestedOutput("logits", binary_data=binary)
    result = triton.infer("tiny_digits", [_fp32_input(batch, binary)], outputs=[output])
    np.testing.assert_allclose(result.as_numpy("logits"), tiny_digits.logits(batch), rtol=1e-6)
    assert result.get_response()["model_version"] == "2"


def test_a_bytes_image_infer_matches_predict_preprocessing(triton, tiny_digits, digit_png):
    from app.imaging.decode import ImageLimits

    images = np.array([digit_png], dtype=np.object_)
    tensor = httpclient.InferInput("input", [1], "BYTES").set_data_from_numpy(images)
    result = triton.infer("tiny_digits", [tensor])
    expected = tiny_digits.logits(tiny_digits.preprocess([digit_png], ImageLimits()))
    np.testing.assert_allclose(result.as_numpy("logits"), expected, rtol=1e-6)


@pytest.mark.parametrize("binary", [False, True])
def test_classification_returns_score_index_label_strings(triton, tiny_digits, binary):
    batch = np.random.default_rng(1).normal(size=(2, 1, 28, 28)).astype(np.float32)
    output = httpclient.InferRequestedOutput("logits", binary_data=binary, class_count=3)
    result = triton.infer("tiny_digits", [_fp32_input(batch, True)], outputs=[output])
    classes = result.as_numpy("logits")
    assert classes.shape == (2, 3)
    logits = tiny_digits.logits(batch)
    for row, strings in zip(logits, classes, strict=True):
        decoded = [s.decode() if isinstance(s, bytes) else s for s in strings]
        scores, indices, labels = zip(*(item.split(":") for item in decoded), strict=True)
        assert [int(i) for i in indices] == list(np.argsort(-row)[:3])
        assert list(labels) == [f"class_{i}" for i in indices]
        np.testing.assert_allclose([float(s) for s in scores], np.sort(row)[::-1][:3], atol=1e-5)


def test_an_unknown_model_is_an_error_the_client_reports(triton):
    with pytest.raises(Exception, match="No model named 'nope'"):
        triton.get_model_metadata("nope")
