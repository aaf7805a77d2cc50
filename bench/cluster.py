"""Lantern as a cluster on one machine: a real redis-server, several `python -m app` replicas
sharing jobs through it, and a round-robin proxy in front; loopback only. Used by the
multi-replica test and by bench.replicas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.proxy import RoundRobinProxy
from bench.redis_server import redis_server
from bench.server import Server, server_processes

# Settings of the replicas: one job each at a time, short leases, long jobs allowed.
REPLICA_ENV = {
    "LANTERN_MAX_RUNNING_JOBS": "1",
    "LANTERN_JOB_LEASE_SECONDS": "1.5",
    "LANTERN_MAX_ACTIVATION_STEPS": "100000",
    "LANTERN_SHUTDOWN_GRACE_SECONDS": "5",
}


@dataclass
class Cluster:
    redis_url: str
    prefix: str  # the replicas' LANTERN_REDIS_PREFIX
    replicas: list[Server]
    proxy: RoundRobinProxy

    @property
    def base(self) -> str:
        """The proxy's URL: requests go round-robin to the live replicas."""
        return f"http://127.0.0.1:{self.proxy.port}"

    def running(self, runner: str) -> Server:
        """The replica a job's `runner` ("host:pid:tag") names."""
        pid = int(runner.split(":")[1])
        return next(server for server in self.replicas if server.process.pid == pid)


@contextmanager
def cluster(
    store: Path, replicas: int = 3, redis_url: str | None = None, **env: str
) -> Iterator[Cluster]:
    """Start (a redis-server unless `redis_url` is given,) `replicas` replicas of Lantern serving
    `store` with REPLICA_ENV and `env`, and the proxy; stop them all at the end."""
    with ExitStack() as stack:
        url = redis_url or stack.enter_context(redis_server())
        prefix = f"cluster:{uuid.uuid4().hex}"
        shared = {"LANTERN_MODEL_STORE": str(store), "LANTERN_REDIS_URL": url,
                  "LANTERN_REDIS_PREFIX": prefix, **REPLICA_ENV, **env}  # fmt: skip
        servers = stack.enter_context(server_processes([dict(shared) for _ in range(replicas)]))
        proxy = RoundRobinProxy([server.port for server in servers]).start()
        stack.callback(proxy.stop)
        yield Cluster(url, prefix, servers, proxy)


def client() -> httpx.Client:
    """A client that opens a connection per request, so the proxy spreads them."""
    return httpx.Client(headers={"Connection": "close"}, timeout=30)
