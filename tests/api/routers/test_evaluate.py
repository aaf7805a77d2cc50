"""POST /models/{name}/evaluate: images as files, an archive or the model's samples; the job's
progress, result and cancel, with jobs in memory and in Redis; the cost refused past the
limit; bad archives answered 4xx with nothing written."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from tests.api.routers.test_jobs import job_settings, wait_for
from tests.archives import damaged_zip, encrypted_zip, tarred, zipped
from tests.conftest import png_bytes

QUICK = "steps=4&random_maps=1&correlation_runs=8&sensitivity_samples=1&randomisation_steps=2"
URL = "/models/tiny_rgb/evaluate"


def pictures(count: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [
        png_bytes(Image.fromarray(rng.integers(0, 256, (16, 16, 3), np.uint8)))
        for _ in range(count)
    ]


@pytest.fixture(scope="module", params=["memory", "redis"])
def client(request, tiny_store) -> Iterator[TestClient]:
    settings = job_settings(request, tiny_store, max_evaluation_passes=200_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_images_as_files_give_a_job_that_reports_progress_and_a_ranked_result(client):
    files = [("file", (f"p{i}.png", data, "image/png")) for i, data in enumerate(pictures(2))]
    started = client.post(f"{URL}?method=saliency&method=grad_cam&{QUICK}", files=files)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["job"]["kind"] == "evaluation" and started.headers["Location"] == job["status_url"]
    assert job["job"]["objective"]["evaluate"] == ["saliency", "grad_cam"]
    done = wait_for(client, job["status_url"], lambda body: body["status"] == "done")
    assert done["step"] == done["steps"] == len(done["history"]) == 2 * 3 + 2 * 2
    result = done["result"]
    assert [image["name"] for image in result["images"]] == ["p0.png", "p1.png"]
    assert {row["method"] for row in result["methods"]} == {"saliency", "grad_cam"}
    assert result["methods"][0]["score"] >= result["methods"][1]["score"]


def test_an_archive_of_class_folders_labels_its_images(client):
    first, second = pictures(2, seed=1)
    archive = zipped({"data/class_1/a.png": first, "data/class_3/b.png": second, "README": b"x"})
    started = client.post(
        f"{URL}?method=saliency&target=label&metric=deletion_insertion&{QUICK}",
        files={"archive": ("images.zip", archive, "application/zip")},
    )
    assert started.status_code == 202, started.text
    done = wait_for(client, started.json()["status_url"], lambda body: body["status"] == "done")
    images = done["result"]["images"]
    assert [(i["label"], i["target"]) for i in images] == [("class_1", 1), ("class_3", 3)]


def test_a_raw_tar_body_is_read_too(client):
    body = tarred({"class_0/a.png": pictures(1)[0]})
    started = client.post(
        f"{URL}?method=saliency&metric=faithfulness_correlation&{QUICK}",
        content=body,
        headers={"Content-Type": "application/gzip"},
    )
    assert started.status_code == 202, started.text


def test_a_running_evaluation_is_cancelled(client):
    files = [("file", (f"p{i}.png", data, "image/png")) for i, data in enumerate(pictures(8))]
    started = client.post(f"{URL}?method=rise&method=occlusion&sensitivity_samples=4", files=files)
    assert started.status_code == 202, started.text
    url = started.json()["status_url"]
    wait_for(client, url, lambda body: body["step"] > 0)
    assert client.delete(url).json()["status"] == "cancelled"
    body = client.get(url).json()
    assert body["status"] == "cancelled" and body["result"] is None and body["step"] < body["steps"]


def test_an_evaluation_over_the_pass_limit_is_refused_with_its_estimate(client):
    files = [("file", (f"p{i}.png", data, "image/png")) for i, data in enumerate(pictures(4))]
    refused = client.post(f"{URL}?method=rise&sensitivity_samples=64", files=files)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "over_budget"
    # 4 images x (1000 masks x (1 + 64 noisy copies) + 42 curve and 18 ROAD points)
    # + 2 cascade steps x 4 x 1000 + per image 1 + 64 subsets + 4 baseline maps x 60
    assert f"about {4 * 65060 + 8000 + 4 * 305:,} forward passes" in error["message"]
    assert "the costliest: rise 268,240" in error["message"]
    assert "the limit is 200,000" in error["message"]


def bomb() -> bytes:
    return zipped({"class_0/bomb.png": b"\0" * (64 * 1024 * 1024)})


ZIP, TAR, TGZ = "application/zip", "application/x-tar", "application/gzip"
# what is wrong, the content type, the body, the status and code expected
BAD_BODIES: list[tuple[str, str, Callable[[], bytes], int, str]] = [
    ("zip bomb", ZIP, bomb, 413, "archive_too_large"),
    ("traversal in a zip", ZIP, lambda: zipped({"../evil.png": b"x"}), 422, "unsafe_archive"),
    ("absolute path in a tar", TAR, lambda: tarred({"/tmp/evil.png": b"x"}, "w"), 422,
     "unsafe_archive"),
    ("traversal in a tar.gz", TGZ, lambda: tarred({"a/../../evil.png": b"x"}), 422,
     "unsafe_archive"),
    ("a link in a tar", TGZ, lambda: tarred({}, link="/etc/passwd"), 422, "unsafe_archive"),
    ("no image in it", ZIP, lambda: zipped({"notes.txt": b"hello"}), 422, "invalid_archive"),
    ("a member that is no image", ZIP, lambda: zipped({"c/x.png": b"text"}), 415,
     "unsupported_media_type"),
    ("not an archive", ZIP, lambda: b"PK\x03\x04 and then nonsense", 422, "invalid_archive"),
    ("an encrypted member", ZIP, encrypted_zip, 422, "invalid_archive"),
    ("a damaged member", ZIP, damaged_zip, 422, "invalid_archive"),
    ("too many images", ZIP, lambda: zipped({f"c/{i}.png": b"x" for i in range(65)}), 422,
     "too_many_images"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "make", "status", "code"),
    [row[1:] for row in BAD_BODIES],
    ids=[row[0] for row in BAD_BODIES],
)
def test_a_bad_archive_is_a_clear_4xx_and_nothing_is_written(
    client, monkeypatch, tmp_path, kind, make, status, code
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where a spooled part would go
    monkeypatch.chdir(tmp_path)
    response = client.post(f"{URL}?method=saliency", content=make(), headers={"Content-Type": kind})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_no_image_is_415(client):
    files = [("file", ("notes.png", b"plain text", "image/png"))]
    response = client.post(f"{URL}?method=saliency", files=files)
    assert (response.status_code, response.json()["error"]["code"]) == (
        415,
        "unsupported_media_type",
    )
    assert "notes.png" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("method=nothing", "invalid_parameter"),
        ("source=samples", "no_samples"),
        ("steps=1", "invalid_parameter"),
        ("metod=saliency", "invalid_parameter"),  # a misspelt option is not ignored
    ],
)
def test_bad_options_are_422(client, query, code):
    files = [("file", ("p.png", pictures(1)[0], "image/png"))]
    response = client.post(f"{URL}?{query}", files=files)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)


def test_the_models_own_samples_need_no_upload(shipped_client):
    started = shipped_client.post(
        f"/models/mnist_cnn/evaluate?source=samples&method=saliency&metric=deletion_insertion&{QUICK}"
    )
    assert started.status_code == 202, started.text
    assert started.json()["job"]["objective"]["images"] == 10
    done = wait_for(
        shipped_client, started.json()["status_url"], lambda body: body["status"] == "done"
    )
    assert done["result"]["images"][0]["label"] == "0"


def test_images_as_json_base64_or_a_raw_image_body_are_taken_too(client):
    picture = pictures(1, seed=5)[0]
    query = f"{URL}?method=saliency&metric=deletion_insertion&{QUICK}"
    as_json = client.post(query, json={"images": [base64.b64encode(picture).decode()]})
    raw = client.post(query, content=picture, headers={"Content-Type": "application/octet-stream"})
    for started in (as_json, raw):
        assert started.status_code == 202, started.text
        assert started.json()["job"]["objective"]["images"] == 1


def test_a_version_is_chosen_like_everywhere_else(client):
    files = [("file", ("p.png", pictures(1)[0], "image/png"))]
    chosen = client.post(f"{URL}?version=1&method=saliency&metric=deletion_insertion", files=files)
    assert chosen.status_code == 202 and chosen.json()["job"]["objective"]["version"] == 1
    missing = client.post(f"{URL}?version=9&method=saliency", files=files)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "version_not_found")
