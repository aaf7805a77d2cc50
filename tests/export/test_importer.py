"""python -m app.export import: models from torch's two exporters and a tf2onnx-style NHWC graph
load in the server, answer /predict and are covered by the gradient engine; an op without a
backward rule is named; bad models are refused with a reason."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from torch import nn

from app.config import Settings
from app.export.__main__ import main
from app.export.import_checks import ImportOptions, ModelImportError
from app.export.import_command import describe
from app.export.importer import import_model
from app.export.presets import PRESETS
from app.gradients.ops import BACKWARD_RULES
from app.main import create_app
from app.runtime.loader import load_store
from tests.conftest import png_bytes
from tests.gradients import broken_rules
from tests.tiny_models import tiny_cnn

LABELS = [f"thing {i}" for i in range(5)]


def small_cnn() -> nn.Module:
    """Conv-BN-ReLU, MaxPool, Conv-ReLU, global average pooling, Linear: 3x16x16 -> 5."""
    torch.manual_seed(0)
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 8, 3, padding=1), bn1=nn.BatchNorm2d(8), relu1=nn.ReLU(),
            pool=nn.MaxPool2d(2),
            conv2=nn.Conv2d(8, 8, 3, padding=1), relu2=nn.ReLU(),
            gap=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(8, 5),
        )
    ).eval()  # fmt: skip


def legacy_export(path: Path, dynamic: bool = True) -> Path:
    axes = {"image": {0: "n"}, "scores": {0: "n"}} if dynamic else None
    torch.onnx.export(small_cnn(), (torch.rand(1, 3, 16, 16),), path, dynamo=False,
                      opset_version=17, input_names=["image"], output_names=["scores"],
                      dynamic_axes=axes)  # fmt: skip
    return path


def dynamo_export(path: Path) -> Path:
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.onnx.export(small_cnn(), (torch.rand(2, 3, 16, 16),), dynamo=True,
                                dynamic_shapes=({0: batch},), verbose=False)  # fmt: skip
    program.save(str(path))  # the weights may go to path.data beside it
    return path


def nhwc_graph(path: Path, extra: str | None = None, opset: int = 17) -> Path:
    """What tf2onnx makes of a small Keras CNN: NHWC input, Transpose to NCHW, Conv, Relu (or
    `extra`), GlobalAveragePool, Flatten, MatMul + Add."""
    rng = np.random.default_rng(1)
    weights = {
        "conv_w": rng.normal(0, 0.3, (8, 3, 3, 3)),
        "conv_b": rng.normal(0, 0.1, (8,)),
        "dense_w": rng.normal(0, 0.3, (8, 5)),
        "dense_b": rng.normal(0, 0.1, (5,)),
    }
    activation = extra or "Relu"
    nodes = [
        helper.make_node(
            "Transpose", ["input_1"], ["nchw"], "model/conv/transpose", perm=[0, 3, 1, 2]
        ),
        helper.make_node(
            "Conv", ["nchw", "conv_w", "conv_b"], ["conv"], "model/conv/Conv2D", pads=[1] * 4
        ),
        helper.make_node(activation, ["conv"], ["act"], f"model/conv/{activation}"),
        helper.make_node("GlobalAveragePool", ["act"], ["gap"], "model/gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], "model/flatten"),
        helper.make_node("MatMul", ["flat", "dense_w"], ["mm"], "model/dense/MatMul"),
        helper.make_node("Add", ["mm", "dense_b"], ["dense"], "model/dense/BiasAdd"),
    ]
    graph = helper.make_graph(
        nodes,
        "keras_cnn",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["unk__6", 16, 16, 3])],
        [helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["unk__7", 5])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.producer_name = "tf2onnx"
    onnx.save(model, path)
    return path


def rank3_graph(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["y"], axes=[2], keepdims=0)],
        "rank3",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The source files and a labels file."""
    folder = tmp_path_factory.mktemp("sources")
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    return {
        "labels": folder / "labels.txt",
        "legacy": legacy_export(folder / "legacy.onnx"),
        "dynamo": dynamo_export(folder / "dynamo.onnx"),
        "keras": nhwc_graph(folder / "keras.onnx"),
        "atan": nhwc_graph(folder / "atan.onnx", extra="Atan"),
        "fixed": legacy_export(folder / "fixed.onnx", dynamic=False),
    }


@pytest.fixture(scope="module")
def store(made: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every good source imported through the command line."""
    out = tmp_path_factory.mktemp("store")
    for name in ("legacy", "dynamo", "keras", "atan", "fixed"):
        main(["import", str(made[name]), "--name", name, "--labels", str(made["labels"]),
              "--mean", "0.5", "--std", "0.25", "--out", str(out)])  # fmt: skip
    return out


@pytest.fixture(scope="module")
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(model_store=store, default_model="legacy"))) as client:
        yield client


GOOD = ["legacy", "dynamo", "keras"]


@pytest.mark.parametrize("name", GOOD)
def test_an_imported_model_answers_predict_through_the_app(client, name):
    picture = png_bytes(Image.new("RGB", (40, 30), (200, 60, 10)))
    response = client.post(
        f"/predict?model={name}&top_k=5", files={"file": ("p.png", picture, "image/png")}
    )
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert sorted(p["label"] for p in predictions) == sorted(LABELS)


@pytest.mark.parametrize("name", [*GOOD, "fixed"])
def test_the_gradient_engine_covers_every_op_of_an_imported_model(store, name):
    model = load_store(store).get(name)
    assert model.engine.available, model.engine.error
    assert model.layers.cam_layer is not None


def test_the_nhwc_layout_is_detected_from_the_shape(store):
    manifest = json.loads((store / "keras" / "1" / "model.json").read_text())
    assert manifest["input"] == {"name": "input_1", "channels": 3, "height": 16, "width": 16,
                                 "layout": "NHWC"}  # fmt: skip
    assert manifest["layers"]["cam"] == "act"
    assert manifest["provenance"]["export_command"].startswith("python -m app.export import")
    assert "keras.onnx" in manifest["provenance"]["data"]


def test_a_fixed_batch_axis_is_freed_and_serves_batches(client, store):
    picture = png_bytes(Image.new("RGB", (16, 16), (0, 90, 200)))
    files = [("file", ("a.png", picture, "image/png")), ("file", ("b.png", picture, "image/png"))]
    response = client.post("/predict?model=fixed", files=files)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_an_op_without_a_backward_rule_is_named_and_forward_methods_still_work(
    made, tmp_path, capsys, client
):
    main(["import", str(made["atan"]), "--name", "atan", "--labels", str(made["labels"]),
          "--out", str(tmp_path)])  # fmt: skip
    printed = capsys.readouterr().out
    assert "Atan (node 'model/conv/Atan')" in printed
    assert "occlusion" in printed and "saliency" not in printed
    assert (tmp_path / "atan" / "1" / "model.onnx").is_file()
    picture = png_bytes(Image.new("RGB", (16, 16), (10, 200, 30)))
    response = client.post("/predict?model=atan", files={"file": ("p.png", picture, "image/png")})
    assert response.status_code == 200


def test_the_import_report_names_the_methods_and_the_cam_layer(made, tmp_path):
    report = import_model(made["legacy"], ImportOptions("report", labels_file=made["labels"]),
                          tmp_path, "test")  # fmt: skip
    assert report.cam_layer == "/relu2/Relu_output_0"
    assert report.unsupported == [] and report.gradient_error is None
    assert {"saliency", "grad_cam", "occlusion"} <= set(report.methods)
    assert report.input.batch is None and report.opset == 17 and report.classes == 5


def test_the_import_report_gives_op_coverage_and_the_self_check(made, tmp_path):
    report = import_model(made["legacy"], ImportOptions("checked", labels_file=made["labels"]),
                          tmp_path, "test")  # fmt: skip
    assert report.path_ops["Conv"] == 2 and report.path_ops["Relu"] >= 2
    assert report.self_check is not None and report.self_check.passed
    printed = describe(report)
    assert (
        f"{len(report.path_ops)} of {len(report.path_ops)} op types on the gradient path" in printed
    )
    assert "Conv 2" in printed
    assert "gradient self-check passed: largest relative error" in printed


def test_the_import_report_says_when_the_self_check_fails(made, tmp_path, monkeypatch):
    monkeypatch.setitem(BACKWARD_RULES, "Relu", broken_rules.scaled("Relu", 1.05))
    report = import_model(made["legacy"], ImportOptions("wrong", labels_file=made["labels"]),
                          tmp_path, "test")  # fmt: skip
    assert report.self_check is not None and not report.self_check.passed
    assert "saliency" not in report.methods and "occlusion" in report.methods
    assert "self-check FAILED" in describe(report)


def test_a_preset_fills_size_preprocessing_and_labels(tmp_path):
    source = tmp_path / "digits.onnx"
    onnx.save(tiny_cnn(1, 28, 10), source)
    main(["import", str(source), "--name", "digits", "--preset", "mnist", "--out", str(tmp_path)])
    manifest = json.loads((tmp_path / "digits" / "1" / "model.json").read_text())
    assert manifest["preprocess"]["digit"] == {"box": 20, "canvas": 28}
    assert manifest["preprocess"]["mean"] == [0.1307]
    assert manifest["labels"] == [str(d) for d in range(10)]


def test_an_open_input_size_is_fixed_from_the_preset_so_gradients_work(tmp_path):
    model = tiny_cnn(3, 32, 10)
    for axis in (2, 3):
        model.graph.input[0].type.tensor_type.shape.dim[axis].dim_param = f"side{axis}"
    onnx.save(model, tmp_path / "open.onnx")
    report = import_model(tmp_path / "open.onnx", ImportOptions("open", preset="cifar10"),
                          tmp_path, "test")  # fmt: skip
    assert (report.input.height, report.input.width) == (32, 32)
    assert report.gradient_error is None
    assert load_store(tmp_path).get("open").engine.available


def test_the_imagenet_preset_ships_1000_unique_names_and_a_centre_crop(tmp_path):
    labels = PRESETS["imagenet"].default_labels()
    assert len(labels) == len(set(labels)) == 1000
    assert (labels[0], labels[1], labels[999]) == ("tench", "goldfish", "toilet tissue")
    source = tmp_path / "wide.onnx"
    onnx.save(tiny_cnn(3, 224, 1000), source)
    import_model(source, ImportOptions("wide", preset="imagenet"), tmp_path, "test")
    manifest = json.loads((tmp_path / "wide" / "1" / "model.json").read_text())
    assert manifest["preprocess"]["resize"] == "center_crop"
    assert manifest["preprocess"]["resize_shorter_to"] == 256
    assert manifest["preprocess"]["std"] == [0.229, 0.224, 0.225]


def bad_sources(folder: Path, made: dict[str, Path]) -> dict[str, tuple[Path, ImportOptions]]:
    (folder / "notes.onnx").write_text("this is not a model")
    (folder / "six.txt").write_text("\n".join("abcdef"))
    labels = made["labels"]
    return {
        "rank 3": (rank3_graph(folder / "rank3.onnx"), ImportOptions("a", labels_file=labels)),
        "labels": (made["legacy"], ImportOptions("b", labels_file=folder / "six.txt")),
        "opset 11": (
            nhwc_graph(folder / "old.onnx", opset=11),
            ImportOptions("c", labels_file=labels),
        ),
        "not onnx": (folder / "notes.onnx", ImportOptions("d", labels_file=labels)),
        "preset": (made["keras"], ImportOptions("e", preset="mnist")),
        "no labels": (made["legacy"], ImportOptions("f")),
        "name": (made["legacy"], ImportOptions("Bad Name", labels_file=labels)),
        "mean": (
            made["legacy"],
            ImportOptions("g", labels_file=labels, mean=(123.7, 116.3, 103.5)),
        ),
    }


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("rank 3", "rank 3"),
        ("labels", "has 6 labels, but the model gives 5 outputs"),
        ("opset 11", "opset 11; Lantern imports opset 13 or newer"),
        ("not onnx", "not a valid ONNX model"),
        ("preset", "preset 'mnist' is for 1-channel images, the model takes 3"),
        ("no labels", "give the class names"),
        ("name", "name"),
        ("mean", "divide 0-255 values by 255"),
    ],
)
def test_a_bad_model_or_option_is_refused_with_a_reason_and_writes_nothing(
    made, tmp_path, case, message
):
    source, options = bad_sources(tmp_path, made)[case]
    with pytest.raises(ModelImportError, match=message):
        import_model(source, options, tmp_path / "store", "test")
    assert not (tmp_path / "store").exists()


def test_the_command_line_exits_with_the_reason(tmp_path):
    source = rank3_graph(tmp_path / "rank3.onnx")
    with pytest.raises(SystemExit, match="import refused: input 'x' has rank 3"):
        main(["import", str(source), "--name", "x", "--preset", "cifar10", "--out", str(tmp_path)])
