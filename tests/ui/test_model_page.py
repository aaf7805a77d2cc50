"""The model page: summary table, diagram, filters, feature maps, activation maximisation."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from tests.ui.conftest import no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser


def open_model_page(tab: Page, model: str) -> None:
    tab.goto(f"/ui/models/{model}")
    tab.wait_for_selector("#model-facts dt")


def test_the_main_page_links_to_the_model_page(page: Page, model_name: str) -> None:
    page.goto(f"/?model={model_name}")
    page.wait_for_function(f"document.getElementById('model-link').href.endsWith('/{model_name}')")
    page.click("#model-link")
    page.wait_for_selector("#model-facts dt")
    assert page.url.endswith(f"/ui/models/{model_name}")


def test_the_model_page_shows_the_summary_table(page: Page, model_name: str) -> None:
    open_model_page(page, model_name)
    page.wait_for_selector("#summary-table:not([hidden]), #summary-section .note:not([hidden])")
    assert not page.is_visible("#summary-section .note")
    assert page.locator("#summary-table tbody tr").count() > 1
    assert page.inner_text("#summary-table tfoot").startswith("Total")
    page.wait_for_selector("#diagram:not([hidden]), #diagram-section .note:not([hidden])")
    page.wait_for_selector("#features-grid[src], #features-section .note:not([hidden])")
    page.wait_for_selector("#features-progress", state="hidden")
    for section in ("#diagram-section", "#features-section"):
        assert not page.is_visible(f"{section} .note"), page.inner_text(f"{section} .note")
    screenshot(page, "model_page")


def test_the_activation_gallery_fills_in_with_progress(page: Page, model_name: str) -> None:
    open_model_page(page, model_name)
    page.fill("#am-steps", "8")
    page.click("#am-start")
    page.wait_for_function(
        "document.querySelectorAll('#am-gallery .picture img').length === "
        "document.querySelectorAll('#am-gallery .tile').length"
        " || !document.querySelector('#am-section .note').hidden"
    )
    assert not page.is_visible("#am-section .note")
    done = page.eval_on_selector_all(
        "#am-gallery progress", "bars => bars.every(bar => bar.value === bar.max)"
    )
    assert done
    screenshot(page, "activation_gallery")


def test_the_model_page_fits_a_phone(phone: Page, model_name: str) -> None:
    open_model_page(phone, model_name)
    phone.wait_for_selector("#summary-table:not([hidden]), #summary-section .note:not([hidden])")
    phone.wait_for_selector("#features-grid[src], #features-section .note:not([hidden])")
    phone.wait_for_selector("#features-progress", state="hidden")
    assert no_horizontal_scroll(phone)
    screenshot(phone, "model_page_375px")


def test_the_filter_grid_of_a_first_layer_is_near_square(page: Page, model_name: str) -> None:
    open_model_page(page, model_name)
    page.wait_for_selector("#filters-grid[src]")
    page.wait_for_function("document.getElementById('filters-grid').naturalWidth > 0")
    width, height = page.eval_on_selector(
        "#filters-grid", "image => [image.naturalWidth, image.naturalHeight]"
    )
    assert 0.5 <= width / height <= 2, (width, height)
    shown = page.locator("#filters-grid").bounding_box()
    assert shown is not None and shown["height"] <= 620


def test_the_facts_say_what_the_model_was_trained_on_in_plain_words(
    page: Page, model_name: str
) -> None:
    open_model_page(page, model_name)
    facts = page.inner_text("#model-facts")
    assert "Trained on" in facts and "MNIST" in facts
    assert "../" not in facts and "shared/data" not in facts


def test_the_class_list_shows_every_class(page: Page, model_name: str) -> None:
    open_model_page(page, model_name)
    assert page.locator("#class-list li").count() == 10
    assert not page.is_visible("#class-search")


def test_a_thousand_classes_are_searchable(page: Page, model_name: str) -> None:
    def thousand(route: Route) -> None:
        body = route.fetch().json()
        body["labels"] = [f"class {index}" for index in range(1000)]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(lambda url: urlsplit(url).path == f"/models/{model_name}", thousand)
    open_model_page(page, model_name)
    assert page.locator("#class-list li").count() == 1000
    page.fill("#class-search", "class 99")
    visible = page.locator("#class-list li:not([hidden])")
    assert visible.count() == 11  # 99 and 990-999
    assert page.inner_text("#class-found") == "11 found"
    list_box = page.locator("#class-list").bounding_box()
    assert list_box is not None and list_box["height"] < 400  # it scrolls


def test_the_facts_say_whether_the_gradient_self_check_passed(page: Page, model_name: str) -> None:
    open_model_page(page, model_name)
    facts = page.inner_text("#model-facts")
    assert "Gradient methods" in facts and "self-check passed" in facts
