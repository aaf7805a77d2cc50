"""One key everywhere for the op rules: each module `app/gradients/ops/<op>.py` is in
BACKWARD_RULES under its op type (or, for Flatten, Squeeze and Unsqueeze, shares `reshape`)
and has its own test file `tests/gradients/ops/test_<op>.py`."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import app.gradients.ops
from app.gradients.ops import BACKWARD_RULES

OP_TESTS = Path(__file__).parent / "ops"
SHARED_RULES = {"Flatten": "reshape", "Squeeze": "reshape", "Unsqueeze": "reshape"}


def op_modules() -> set[str]:
    return {module.name for module in pkgutil.iter_modules(app.gradients.ops.__path__)}


def snake_case(op_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op_type).lower()


def test_every_op_module_is_in_the_registry_under_its_own_op_type():
    modules = {op: rule.__module__.rsplit(".", 1)[1] for op, rule in BACKWARD_RULES.items()}
    assert set(modules.values()) == op_modules()
    for op, module in modules.items():
        assert module == SHARED_RULES.get(op, snake_case(op)), op


def test_every_op_module_has_its_own_test_file():
    missing = [op for op in sorted(op_modules()) if not (OP_TESTS / f"test_{op}.py").is_file()]
    assert missing == []


def test_every_op_test_file_is_named_after_an_op_module():
    named = {path.stem.removeprefix("test_") for path in OP_TESTS.glob("test_*.py")}
    assert named - op_modules() == set()
