"""The main page's results: maps without a click, above the fold on a desktop and right under
the prediction on a phone, with colour bars, plain captions, details on request, a readable
class map, hints from the server, the model's crop marked on the picture as given, and no
request more than the ticks need."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from playwright.sync_api import Page, Route

from tests.ui.conftest import (
    open_main,
    open_picker,
    sample,
    screenshot,
    store_models,
    ticked,
    wait_for_maps,
    wait_for_top_class,
)

pytestmark = pytest.mark.browser


def test_an_upload_shows_its_maps_above_the_fold_without_a_click(
    page: Page, model_name: str
) -> None:
    open_main(page, model_name)
    page.set_input_files("#file-input", sample(model_name, "7"))
    wait_for_top_class(page, "7")
    wait_for_maps(page, "7")
    first = page.locator("#figure-grid figure.map[data-target] .stack").first.bounding_box()
    assert first is not None and first["y"] + first["height"] <= 800  # 1280x800: all in view
    prediction = page.locator("#top-k").bounding_box()
    assert prediction is not None and first["x"] > 300  # beside the picker, under the bars
    screenshot(page, "upload_maps_1280x800", full_page=False)


def test_on_a_phone_the_maps_come_right_under_the_prediction(phone: Page, model_name: str) -> None:
    open_main(phone, model_name)
    phone.set_input_files("#file-input", sample(model_name, "7"))
    wait_for_top_class(phone, "7")
    wait_for_maps(phone, "7")
    bars = phone.locator("#prediction-panel").bounding_box()
    first = phone.locator("#figure-grid figure.map").first.bounding_box()
    assert bars is not None and first is not None
    assert 0 <= first["y"] - (bars["y"] + bars["height"]) <= 40
    assert first["y"] < 800  # the first row of maps starts in the first screenful
    phone.evaluate("window.scrollTo(0, document.getElementById('prediction-panel').offsetTop)")
    screenshot(phone, "upload_maps_375px", full_page=False)


def test_the_defaults_suit_the_model_family(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    assert ticked(page) == ["saliency", "grad_cam", "occlusion"]
    assert page.inner_text("#method-choice") == "Saliency, Grad-CAM and Occlusion"
    if "cifar_resnet" in store_models():
        page.select_option("#model-select", "cifar_resnet")
        wait_for_maps(page)
        assert ticked(page) == ["grad_cam", "guided_grad_cam", "occlusion"]


def test_every_map_has_a_colour_bar_that_says_what_its_colours_mean(
    page: Page, model_name: str
) -> None:
    open_main(page, model_name)
    maps = page.locator("#figure-grid figure.map[data-target]")
    assert maps.count() == 3
    for index in range(maps.count()):
        bar = maps.nth(index).locator(".colour-bar")
        assert "linear-gradient" in bar.locator(".bar").evaluate("n => n.style.background")
        assert bar.get_attribute("aria-label").startswith("Colour scale:")
    occlusion = page.inner_text("figure.map[data-method=occlusion] .colour-bar .ends")
    assert occlusion.split() == ["against", "0", "for"]  # signed: centred on zero
    saliency = page.inner_text("figure.map[data-method=saliency] .colour-bar .ends")
    assert saliency.split() == ["less", "importance", "more"]


def test_captions_are_plain_and_the_technical_details_wait_behind_a_toggle(
    page: Page, model_name: str
) -> None:
    open_main(page, model_name)
    figure = page.locator("figure.map[data-method=grad_cam]")
    assert "evidence for “0”" in figure.locator(".plain").inner_text()
    assert not figure.locator("text=layer (tensor)").is_visible()
    figure.locator("details.tech > summary").click()
    assert figure.locator("text=layer (tensor)").is_visible()
    assert figure.locator("text=raw range").is_visible()


def test_the_class_map_has_a_legend_and_says_when_one_class_always_wins(
    page: Page, model_name: str
) -> None:
    open_main(page, model_name)
    figure = page.locator("figure[data-method=occlusion][data-extra=class_map]")
    legend = figure.locator(".legend li")
    assert legend.count() >= 1
    assert legend.first.inner_text().startswith("0 (")  # the label and its share
    note = figure.locator(".plain").inner_text()
    assert ("Only one class ever wins" in note) == (legend.count() == 1)


def test_ticking_a_method_asks_for_that_method_only(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/explain/" in r.url else None)
    open_picker(page)
    page.check("#method-rise")
    page.wait_for_selector("figure.map[data-method=rise] img.heat")
    assert [url.split("/explain/")[1].split("?")[0] for url in asked] == ["rise"]
    page.uncheck("#method-rise")
    assert page.locator("figure[data-method=rise]").count() == 0
    page.fill("#opacity", "30")  # drawn in the page: no new request
    opacity = page.eval_on_selector(".stack .heat", "image => getComputedStyle(image).opacity")
    assert float(opacity) == pytest.approx(0.3) and len(asked) == 1


def test_choosing_another_class_explains_that_class(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    open_picker(page)
    page.select_option("#target-select", "8")
    wait_for_maps(page, "8")
    assert page.locator("figure.map[data-target='8']").count() == 3
    screenshot(page, "explain_class_8")


def _with(route: Route, extra: dict) -> None:
    body = {**route.fetch().json(), **extra}
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_hints_from_the_server_are_shown(page: Page, model_name: str) -> None:
    hint = {"code": "photo_for_digit_model", "message": "This looks like a photo."}
    page.route("**/predict?*", lambda route: _with(route, {"hints": [hint]}))
    open_main(page, model_name)
    page.wait_for_selector("#hints .note[data-code=photo_for_digit_model]")
    assert page.inner_text("#hints") == "This looks like a photo."


def test_maps_are_drawn_over_the_picture_as_given_with_the_models_crop_marked(
    page: Page, model_name: str
) -> None:
    region = {"width": 56, "height": 28, "box": [14, 0, 42, 28]}
    page.route("**/explain/*", lambda route: _with(route, {"input_region": region}))
    open_main(page, model_name)
    wide = Image.open(sample(model_name, "3")).convert("L").resize((28, 28))
    canvas = Image.new("L", (56, 28))
    canvas.paste(wide, (14, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    page.set_input_files("#file-input", files=[
        {"name": "wide.png", "mimeType": "image/png", "buffer": buffer.getvalue()}
    ])  # fmt: skip
    wait_for_maps(page, "3")
    figure = page.locator("figure.map[data-method=grad_cam]")
    assert figure.locator("img.base").get_attribute("src").startswith("blob:")
    frame = figure.locator(".frame").bounding_box()
    heat = figure.locator("img.heat").bounding_box()
    crop = figure.locator(".crop-box").bounding_box()
    assert frame and heat and crop
    assert frame["width"] == pytest.approx(2 * frame["height"], rel=0.02)
    assert heat["x"] - frame["x"] == pytest.approx(frame["width"] / 4, abs=1.5)
    assert heat["width"] == pytest.approx(frame["width"] / 2, abs=1.5)
    assert crop == pytest.approx(heat, abs=1.5)
    screenshot(page, "maps_over_the_given_picture")
