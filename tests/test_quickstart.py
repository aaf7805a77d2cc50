"""The README's quickstart runs word for word: it names Python 3.11, its two set-up commands
are the serve command and the test command CI runs, `python -m app` prints the address the
README says to open, and every `curl` example answers from a live server (only the port is
changed)."""

from __future__ import annotations

import json
import os
import re
import selectors
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT
from bench.server import free_port

README = (PROJECT_ROOT / "README.md").read_text()
SERVE = "pip install -e . && python -m app"
TEST = "pip install -e '.[dev]' && python -m pytest"
README_URL = "http://127.0.0.1:8000/"


def bash_blocks(text: str) -> list[list[str]]:
    """The commands of each ```bash block: continuation lines joined, comments dropped."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [
        [line for line in block.replace("\\\n", " ").splitlines() if line.strip()
         and not line.lstrip().startswith("#")]
        for block in blocks
    ]  # fmt: skip


def test_the_readme_asks_for_the_python_that_pyproject_requires():
    requires = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert requires["requires-python"] == ">=3.11,<3.12"
    assert "Python 3.11" in README


def test_the_two_set_up_commands_are_serve_and_test_and_ci_runs_the_test_command():
    set_up = [block for block in bash_blocks(README) if any("pip install" in c for c in block)]
    assert set_up == [[SERVE], [TEST]]
    assert TEST in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
    assert README.index(SERVE) < README.index(README_URL) < README.index(TEST)


def test_the_readme_is_a_front_page():
    assert len(README.splitlines()) <= 150
    for link in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (PROJECT_ROOT / link).is_file(), link
    assert not re.search(r"this (\d-core )?machine|this (shared )?machine|on this CPU", README)


def curl_examples() -> list[str]:
    return [c for block in bash_blocks(README) for c in block if c.startswith("curl ")]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """`python -m app` as the README says (on a free port); its base URL and what it printed."""
    port = free_port()
    serve = shlex.split(SERVE.split("&&")[1])  # the install is done: CI and the dev set-up ran it
    command = [sys.executable if word == "python" else word for word in serve]
    env = {**os.environ, "LANTERN_PORT": str(port), "LANTERN_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        yield base, _read_line(process, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=40)
        process.stdout.close()  # type: ignore[union-attr]


def _path() -> str:
    """PATH with this interpreter's folder first, so the examples' `python` is this one."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _wait_ready(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "python -m app exited"
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("python -m app did not become ready")


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()


def test_python_m_app_prints_the_address_the_readme_says_to_open(served):
    base, printed = served
    assert f"open {README_URL.replace(':8000', ':' + base.rsplit(':', 1)[1])} " in printed


def test_there_are_curl_examples_for_a_digit_and_a_photo_on_predict_and_grad_cam():
    examples = curl_examples()
    for route in ("/predict", "/explain/grad_cam"):
        asked = [c for c in examples if route in c]
        assert any("mnist" in c for c in asked) and any("mnist" not in c for c in asked), route


def test_every_curl_example_answers_word_for_word(served, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is absent (apt-get install -y curl)")
    base, _ = served
    (tmp_path / "static").symlink_to(PROJECT_ROOT / "static")  # the repository's samples
    for example in curl_examples():
        command = example.replace("http://127.0.0.1:8000", base)
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PATH": _path()},
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout.strip(), (example, done.stderr)
        if "/predict" in example:
            assert json.loads(done.stdout)["predictions"], example
    assert (tmp_path / "grad_cam.png").read_bytes().startswith(b"\x89PNG")
