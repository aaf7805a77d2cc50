"""app/server/allocator.py: glibc's mmap threshold and arenas, unless the environment says."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.server.allocator import ARENAS, MMAP_THRESHOLD, glibc

SCRIPT = (
    "import json; from app.server.allocator import tune_allocator; "
    "print(json.dumps(tune_allocator()))"
)


def tuned(env: dict[str, str]) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(glibc() is None, reason="not glibc")
def test_the_allocator_gets_a_fixed_mmap_threshold_and_few_arenas():
    made = tuned({"PATH": "/usr/bin:/bin"})
    assert made == {
        "arena_max": ARENAS,
        "mmap_threshold": MMAP_THRESHOLD,
        "trim_threshold": 2 * MMAP_THRESHOLD,
    }


@pytest.mark.skipif(glibc() is None, reason="not glibc")
def test_the_environments_malloc_settings_win():
    made = tuned({"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "8", "MALLOC_MMAP_THRESHOLD_": "1"})
    assert made == {}
