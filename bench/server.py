"""A real uvicorn serving Lantern on a free 127.0.0.1 port: the one way the benchmarks and the
tests that need a real server start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

STOP_SECONDS = 30.0  # the server's default shutdown grace; after it, the server is killed


@dataclass(frozen=True)
class Server:
    """A started `python -m app`."""

    base: str  # http://127.0.0.1:<port>
    port: int
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_process(
    extra_env: dict[str, str] | None = None,
    timeout: float = 60,
    stderr: IO | int | None = None,
) -> Iterator[Server]:
    """Start `python -m app` on a free port (log level warning unless `extra_env` says
    otherwise; its log to `stderr` when given), wait for readiness, yield it, and stop it:
    SIGTERM, then SIGKILL if it is still running `STOP_SECONDS` later."""
    with server_processes([extra_env or {}], timeout, stderr) as (server,):
        yield server


@contextmanager
def server_processes(
    envs: list[dict[str, str]], timeout: float = 60, stderr: IO | int | None = None
) -> Iterator[list[Server]]:
    """`server_process` for several servers at once, one per entry of `envs`: all start
    together, then each is waited for; all are stopped at the end."""
    servers = [_start(env, stderr) for env in envs]
    try:
        for server in servers:
            _wait_ready(server, timeout)
        yield servers
    finally:
        for server in servers:
            _stop(server.process)


def _start(extra_env: dict[str, str], stderr: IO | int | None) -> Server:
    port = free_port()
    env = {**os.environ, "LANTERN_PORT": str(port), "LANTERN_LOG_LEVEL": "warning", **extra_env}
    process = subprocess.Popen([sys.executable, "-m", "app"], env=env, stderr=stderr)
    return Server(f"http://127.0.0.1:{port}", port, process)


@contextmanager
def running_server(
    extra_env: dict[str, str] | None = None,
    timeout: float = 60,
    stderr: IO | int | None = None,
) -> Iterator[str]:
    """`server_process`, yielding only the base URL: what most callers need."""
    with server_process(extra_env, timeout, stderr) as server:
        yield server.base


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}")
        try:
            if httpx.get(server.base + "/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError("server did not become ready")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_settled(server: Server, timeout: float = 120) -> None:
    """Wait until no model's gradient self-check is still pending (the default runs it on a
    background thread once the server is ready): memory read before that is not idle."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base, timeout=10) as client:
        names = [m["name"] for m in client.get("/models").json()["models"]]
        while time.monotonic() < deadline:
            statuses = [
                client.get(f"/models/{name}").json()["gradients"]["status"] for name in names
            ]
            if "pending" not in statuses:
                return
            time.sleep(0.2)
    raise TimeoutError(f"the gradient self-checks were still pending after {timeout} s")
