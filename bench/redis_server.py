"""A real `redis-server` (Debian's package) on a free loopback port, for the tests of the shared
job store, the multi-replica test and bench.replicas: no persistence, stopped at the end."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from bench.server import free_port


@contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[str]:
    """Start redis-server on 127.0.0.1, yield its URL, and stop it."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    options = {"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
    command = [binary, *(part for key, value in options.items() for part in (f"--{key}", value))]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_ping(url, process, timeout)
        yield url
    finally:
        process.terminate()
        process.wait(timeout)


def _wait_for_ping(url: str, process: subprocess.Popen, timeout: float) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not answer PING")
    finally:
        client.close()
