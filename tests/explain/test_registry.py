"""The registry names every method module, and each key is its module, URL and test file."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import app.explain
from app.explain.base import Method
from app.explain.registry import METHODS

SHARED_MODULES = {
    "base",
    "budget",
    "crops",
    "cam_base",
    "faithfulness",
    "gradient_base",
    "propagation_base",
    "options",
    "patches",
    "registry",
    "render",
    "response",
    "service",
    "superpixel_base",
}


def test_every_method_module_is_registered_under_its_own_name():
    modules = {m.name for m in pkgutil.iter_modules(app.explain.__path__)} - SHARED_MODULES
    assert modules == set(METHODS)
    for key, method in METHODS.items():
        assert type(method).__module__ == f"app.explain.{key}"
        assert isinstance(method, Method) and method.__doc__ and method.summary


def test_every_method_has_its_own_test_file():
    folder = Path(__file__).parent
    missing = [key for key in METHODS if not (folder / f"test_{key}.py").is_file()]
    assert missing == []
