"""The main page: upload, draw, explain, errors, narrow screens, API keys."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.ui.conftest import (
    API_KEY,
    no_horizontal_scroll,
    open_main,
    sample,
    screenshot,
    store_models,
    wait_for_top_class,
)

pytestmark = pytest.mark.browser


def test_uploading_a_sample_digit_shows_its_class(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    page.set_input_files("#file-input", sample(model_name, "7"))
    wait_for_top_class(page, "7")
    assert page.locator("#top-k li").count() == 5
    assert page.is_visible("#preview")
    screenshot(page, "upload_digit")


def test_drawing_a_one_shows_one_as_top_class(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    canvas = page.locator("#draw-canvas")
    box = canvas.bounding_box()
    assert box is not None
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, box["y"] + box["height"] * (0.15 + 0.7 * step / 20))
    page.mouse.up()
    wait_for_top_class(page, "1")
    screenshot(page, "draw_one")
    page.click("#clear-canvas")
    assert page.locator("#top-k li").count() == 0


def test_drawing_a_one_by_keyboard_shows_one_as_top_class(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    page.focus("#file-input")
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


def explain_with(page: Page, methods: tuple[str, ...]) -> None:
    """Tick exactly `methods`, press Explain and wait until each has drawn its heatmap."""
    for box in page.locator("#method-groups input[name=method]").all():
        box.set_checked(box.get_attribute("value") in methods)
    page.click("#explain-button")
    for method in methods:
        page.wait_for_selector(f"#figure-grid figure.map[data-method={method}] img.heat")
    page.wait_for_selector("#explain-progress", state="hidden")


def test_grad_cam_and_saliency_render_loaded_images(page: Page, model_name: str) -> None:
    open_main(page, model_name)
    page.set_input_files("#file-input", sample(model_name, "3"))
    wait_for_top_class(page, "3")
    explain_with(page, ("saliency", "grad_cam"))
    loaded = page.eval_on_selector_all(
        "#figure-grid img", "images => images.map(i => i.complete && i.naturalWidth > 0)"
    )
    assert len(loaded) >= 5 and all(loaded)  # input, and a base and a heatmap per method
    assert "class 3" in page.inner_text("#figure-grid figure[data-method=grad_cam] figcaption")
    page.fill("#opacity", "30")
    opacity = page.eval_on_selector(".stack .heat", "image => getComputedStyle(image).opacity")
    assert float(opacity) == pytest.approx(0.3)
    screenshot(page, "explain_saliency_grad_cam")
    page.select_option("#target-select", "8")
    page.click("#explain-button")
    page.wait_for_selector("#figure-grid figure.map[data-method=grad_cam][data-target='8']")


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
    phone.click("#explain-button")
    phone.wait_for_selector("#explain-progress", state="hidden")
    phone.wait_for_selector("#figure-grid img.heat")
    assert no_horizontal_scroll(phone)
    screenshot(phone, "main_375px")


def test_the_page_asks_for_an_api_key_once_and_retries(keyed_page: Page, model_name: str) -> None:
    keyed_page.goto(f"/?model={model_name}")
    keyed_page.wait_for_selector("#auth-dialog[open]")
    screenshot(keyed_page, "api_key_dialog")
    keyed_page.fill("#auth-key", API_KEY)
    keyed_page.click("#auth-form button[type=submit]")
    keyed_page.wait_for_selector("#method-groups input[name=method]", state="attached")
    keyed_page.set_input_files("#file-input", sample(model_name, "2"))
    wait_for_top_class(keyed_page, "2")
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
    page.set_input_files("#file-input", sample(model_name, "0"))
    wait_for_top_class(page, "0")
    page.click("summary >> nth=0")
    assert page.evaluate(UNLABELLED) == []
    page.goto(f"/ui/models/{model_name}")
    page.wait_for_selector("#model-facts dt")
    assert page.evaluate(UNLABELLED) == []


def test_a_colour_sample_is_classified_and_explained(page: Page) -> None:
    if "cifar_resnet" not in store_models():
        pytest.skip("no cifar_resnet with samples in the store")
    open_main(page, "cifar_resnet")
    page.click("#samples button[data-label=cat]")
    wait_for_top_class(page, "cat")
    explain_with(page, ("guided_backprop", "grad_cam"))
    assert "cat" in page.inner_text("#figure-grid figure[data-method=grad_cam] figcaption")
    screenshot(page, "cifar_explain")
