"""python -m app (app/__main__.py): the address it tells a person to open."""

from __future__ import annotations

import pytest

from app.__main__ import browser_url


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [("127.0.0.1", 8000, "http://127.0.0.1:8000/"), ("0.0.0.0", 9000, "http://127.0.0.1:9000/"),
     ("::", 80, "http://127.0.0.1:80/"), ("::1", 8000, "http://[::1]:8000/"),
     ("lantern.local", 8080, "http://lantern.local:8080/")],
)  # fmt: skip
def test_the_printed_address_is_one_a_browser_on_this_machine_opens(host, port, url):
    assert browser_url(host, port) == url
