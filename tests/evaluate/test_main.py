"""python -m app.evaluate: a folder of class folders evaluated without a server, the same
code as the job, written as JSON and a self-contained HTML report; refusals exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from app.config import PROJECT_ROOT
from app.evaluate.__main__ import main
from app.evaluate.folder import read_folder
from app.evaluate.result import EvaluationResult
from app.imaging.archive import ArchiveLimits
from tests.archives import zipped
from tests.conftest import png_bytes

QUICK = [
    "--steps",
    "4",
    "--random-maps",
    "1",
    "--correlation-runs",
    "8",
    "--sensitivity-samples",
    "1",
    "--randomisation-steps",
    "2",
    "--seed",
    "3",
]


def image_folder(root, classes=("class_0", "class_2"), per_class=2):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, (16, 16, 3), np.uint8)
            (root / name / f"{index}.png").write_bytes(png_bytes(Image.fromarray(pixels)))
    return root


def test_a_folder_is_evaluated_into_json_and_an_html_report(tiny_store, tmp_path, capsys):
    folder = image_folder(tmp_path / "images")
    out = tmp_path / "out" / "report.json"
    argv = ["tiny_rgb", str(folder), "--methods", "saliency,grad_cam", "--target", "label"]
    assert main([*argv, *QUICK, "--out", str(out), "--store", str(tiny_store)]) == 0
    result = EvaluationResult.model_validate_json(out.read_text())
    assert [(i.name, i.target) for i in result.images] == [
        ("class_0/0.png", 0),
        ("class_0/1.png", 0),
        ("class_2/0.png", 2),
        ("class_2/1.png", 2),
    ]
    assert {m.method for m in result.methods} == {"saliency", "grad_cam"} and result.seed == 3
    page = out.with_suffix(".html").read_text()
    assert "renderEvaluationTable(" in page and "\nimport " not in page and "\nexport " not in page
    embedded = page.split('id="result">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded)["model"] == "tiny_rgb"
    printed = capsys.readouterr().err
    assert "about" in printed and "forward passes" in printed and "elapsed" in printed


def test_an_estimate_over_the_limit_exits_2_with_the_reason(tiny_store, tmp_path, capsys):
    folder = image_folder(tmp_path / "images")
    argv = ["tiny_rgb", str(folder), "--methods", "rise", "--store", str(tiny_store)]
    assert main([*argv, "--max-passes", "100", "--out", str(tmp_path / "r.json")]) == 2
    assert "LANTERN_MAX_EVALUATION_PASSES" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_a_folder_labels_by_subfolder_and_an_archive_file_is_read_too(tmp_path):
    folder = image_folder(tmp_path / "images", per_class=1)
    (folder / "loose.png").write_bytes((folder / "class_0" / "0.png").read_bytes())
    limits = ArchiveLimits()
    assert [(i.path, i.label) for i in read_folder(folder, limits)] == [
        ("class_0/0.png", "class_0"),
        ("class_2/0.png", "class_2"),
        ("loose.png", None),
    ]
    archive = tmp_path / "images.zip"
    archive.write_bytes(zipped({"dogs/a.png": (folder / "loose.png").read_bytes()}))
    assert [(i.path, i.label) for i in read_folder(archive, limits)] == [("dogs/a.png", "dogs")]


def test_the_command_line_documents_every_option():
    done = subprocess.run(
        [sys.executable, "-m", "app.evaluate", "--help"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert done.returncode == 0
    for flag in ("--methods", "--metrics", "--substrate", "--sensitivity-radius", "--out"):
        assert flag in done.stdout
