"""Schemathesis against a live server on the tiny store: every operation of /openapi.json,
its examples, coverage and fuzzing phases, every check (tests/hostile/schemathesis.toml says
which allowance it makes and why). Fails on any 5xx or conformance failure. About a minute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.server import server_process

CONFIG = Path(__file__).with_name("schemathesis.toml")
CLI = "from schemathesis.cli import schemathesis; schemathesis()"
# Jobs that finish at once and never fill up, so fuzzing activation maximisation is no
# load test; forward passes bounded, so RISE's largest admitted request stays quick.
ENV = {
    "LANTERN_MAX_ACTIVATION_STEPS": "4",
    "LANTERN_MAX_QUEUED_JOBS": "10000",
    "LANTERN_JOB_TTL_SECONDS": "30",
    "LANTERN_MAX_FORWARD_PASSES": "1024",
    "LANTERN_MAX_EVALUATION_PASSES": "2000",  # fuzzed evaluations are refused or quick
}


@pytest.mark.slow
def test_the_server_conforms_to_its_schema_with_no_server_error(tiny_store, tmp_path):
    env = {"LANTERN_MODEL_STORE": str(tiny_store), "LANTERN_DEFAULT_MODEL": "tiny_digits", **ENV}
    with server_process(env) as server:
        run = subprocess.run(
            [
                sys.executable, "-c", CLI, "--config-file", str(CONFIG), "run",
                f"{server.base}/openapi.json", "--phases", "examples,coverage,fuzzing",
                "--seed", "15", "--no-color",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "generated" in run.stdout and "failures" not in run.stdout.split("SUMMARY")[-1]
