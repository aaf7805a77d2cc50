"""Run the zoo entry by entry: every test of one architecture (autograd, Captum, the
self-check, the injected bugs) before the next one, so that the caches of architectures.py
and explained.py, which keep one entry, build each export once and memory holds one model."""

from __future__ import annotations

import pytest

from tests.gradients.zoo.architectures import ZOO

ORDER = {arch.key: index for index, arch in enumerate(ZOO)}


def entry_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    key = callspec.params.get("key") if callspec else None
    return key if key in ORDER and "gradients/zoo/" in item.nodeid else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slots = [index for index, item in enumerate(items) if entry_of(item) is not None]
    ordered = sorted((items[index] for index in slots), key=lambda item: ORDER[entry_of(item)])
    for index, item in zip(slots, ordered, strict=True):
        items[index] = item
