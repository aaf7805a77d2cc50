"""The main page's intake: upload, draw (pointer and keyboard), drop and paste, errors,
narrow screens, API keys, labels."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.ui.conftest import (
    API_KEY,
    no_horizontal_scroll,
    open_main,
    open_picker,
    sample,
    screenshot,
    store_models,
    wait_for_maps,
    wait_for_top_class,
)

pytestmark = pytest.mark.browser


def test_the_page_opens_on_its_first_sample_classified_and_explained(
    page: Page, model_name: str
) -> None:
    open_main(page, model_name)
    assert page.inner_text("#preview-caption") == "sample 0"
    wait_for_top_class(page, "0")
    wait_for_maps(page, "0")


def test_uploading_a_sample_digit_shows_its_class(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    page.set_input_files("#file-input", sample(model_name, "7"))
    wait_for_top_class(page, "7")
    assert page.locator("#top-k li").count() == 5
    assert page.is_visible("#preview")
    assert not page.is_visible("#draw-canvas")  # a picture, not a drawing
    screenshot(page, "upload_digit")


def draw_a_one(page: Page) -> None:
    box = page.locator("#draw-canvas").bounding_box()
    assert box is not None
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, box["y"] + box["height"] * (0.15 + 0.7 * step / 20))
    page.mouse.up()


def test_the_canvas_shows_only_once_drawing_is_chosen_and_a_drawing_is_explained(
    page: Page, model_name: str
) -> None:
    open_main(page, model_name)
    assert not page.is_visible("#draw-canvas")
    page.click("label[for=source-draw]")
    assert page.is_visible("#draw-canvas") and not page.is_visible("#dropzone")
    draw_a_one(page)
    wait_for_top_class(page, "1")
    wait_for_maps(page, "1")  # explained once the pen is lifted
    screenshot(page, "draw_one")
    page.click("#clear-canvas")
    assert page.locator("#top-k li").count() == 0
    assert page.locator("#figure-grid figure").count() == 0
    page.click("label[for=source-file]")
    assert not page.is_visible("#draw-canvas") and page.is_visible("#dropzone")


def test_a_photo_model_offers_no_canvas(page: Page) -> None:
    if "cifar_resnet" not in store_models():
        pytest.skip("no cifar_resnet with samples in the store")
    open_main(page, "cifar_resnet")
    assert not page.is_visible("#source-choice") and not page.is_visible("#draw-canvas")


def test_drawing_a_one_by_keyboard_shows_one_as_top_class(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    page.focus("#source-file")
    page.keyboard.press("ArrowRight")  # the radio group: "A drawing"
    assert page.is_checked("#source-draw")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "draw-canvas"
    assert page.is_visible("#pen-cursor")
    for key in ["Shift+ArrowUp"] * 3 + ["ArrowUp"] * 2:  # from the centre to 15% from the top
        page.keyboard.press(key)
    page.keyboard.press("Space")
    assert page.inner_text("#status").startswith("Pen down")
    for key in ["Shift+ArrowDown"] * 7:  # down to 85%, as the pointer test draws
        page.keyboard.press(key)
    page.keyboard.press("Space")
    wait_for_top_class(page, "1")
    screenshot(page, "draw_one_keyboard")
    page.keyboard.press("Delete")
    assert page.locator("#top-k li").count() == 0
    assert page.is_visible("#prediction-empty")


def test_uploading_a_text_file_shows_a_readable_error(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    text = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture\n"}
    page.set_input_files("#file-input", files=[text])
    page.wait_for_selector("#error", state="visible")
    message = page.inner_text("#error-text")
    assert "PNG" in message
    assert "{" not in message and "error" not in message.lower()
    assert page.get_attribute("#error", "role") == "alert"
    screenshot(page, "text_file_error")


def test_a_phone_wide_screen_has_no_horizontal_scroll(phone: Page, model_name: str) -> None:
    open_main(phone, model_name)
    phone.set_input_files("#file-input", sample(model_name, "5"))
    wait_for_top_class(phone, "5")
    wait_for_maps(phone, "5")
    assert no_horizontal_scroll(phone)
    open_picker(phone)
    assert no_horizontal_scroll(phone)


def test_the_page_asks_for_an_api_key_once_and_retries(keyed_page: Page, model_name: str) -> None:
    keyed_page.goto(f"/?model={model_name}")
    keyed_page.wait_for_selector("#auth-dialog[open]")
    screenshot(keyed_page, "api_key_dialog")
    keyed_page.fill("#auth-key", API_KEY)
    keyed_page.click("#auth-form button[type=submit]")
    keyed_page.wait_for_selector("#method-groups input[name=method]", state="attached")
    keyed_page.set_input_files("#file-input", sample(model_name, "2"))
    wait_for_top_class(keyed_page, "2")
    wait_for_maps(keyed_page, "2")
    assert keyed_page.evaluate("sessionStorage.getItem('lantern.apiKey')") == API_KEY
    assert not keyed_page.is_visible("#auth-dialog")


# Drop a fetched sample on the drop zone, or paste it, as a browser would deliver it.
GIVE_FILE = """async ([url, how]) => {
    const blob = await (await fetch(url)).blob();
    const data = new DataTransfer();
    data.items.add(new File([blob], 'digit.png', {type: 'image/png'}));
    const options = {bubbles: true, cancelable: true};
    if (how === 'drop') {
        const zone = document.getElementById('dropzone');
        zone.dispatchEvent(new DragEvent('drop', {...options, dataTransfer: data}));
    } else {
        document.dispatchEvent(new ClipboardEvent('paste', {...options, clipboardData: data}));
    }
}"""


def test_dropping_or_pasting_a_file_classifies_it(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    for label, how in (("4", "drop"), ("9", "paste")):
        url = f"/static/samples/{model_name}/{sample(model_name, label).name}"
        page.evaluate(GIVE_FILE, [url, how])
        wait_for_top_class(page, label)
        assert how in page.inner_text("#preview-caption")


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, canvas, button')]
    .filter(node => node.offsetParent !== null)
    .filter(node => !(node.labels && node.labels.length) && !node.getAttribute('aria-label')
        && !(node.textContent || '').trim())
    .map(node => node.outerHTML.slice(0, 80))"""


def test_every_visible_control_has_a_label(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    open_picker(page)
    page.click("#method-groups .options > summary >> nth=0")
    page.click("#figure-grid details.tech > summary >> nth=0")
    assert page.evaluate(UNLABELLED) == []
    page.click("label[for=source-draw]")
    assert page.evaluate(UNLABELLED) == []
    page.goto(f"/ui/models/{model_name}")
    page.wait_for_selector("#model-facts dt")
    assert page.evaluate(UNLABELLED) == []
