"""Jobs across replicas: the hand-off latency (a job submitted to one replica, from queued to
running on another) and the time to recover a job from a killed replica (SIGKILL to running
again elsewhere), on a real cluster (bench.cluster: redis-server, replicas, proxy; loopback).

Times come from the job records in Redis (`created`, `started`: the replicas' wall clocks, one
machine) and, for a kill, from this process's wall clock at the kill. The baseline of the
recovery time is the lease (LANTERN_JOB_LEASE_SECONDS) it waits out.
Usage: python -m bench.replicas [--samples 30] [--kills 3]"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

import httpx
import redis

from app.config import PROJECT_ROOT
from bench.cluster import REPLICA_ENV, Cluster, client, cluster

MODEL = "mnist_cnn"
LEASE = float(REPLICA_ENV["LANTERN_JOB_LEASE_SECONDS"])


def record(redis_client: redis.Redis, prefix: str, job_id: str) -> dict[str, Any]:
    return redis_client.hgetall(f"{prefix}:job:{job_id}")  # type: ignore[return-value]


def submit(http: httpx.Client, base: str, steps: int) -> str:
    body = {"class": 3, "steps": steps, "seed": 1}
    answer = http.post(f"{base}/models/{MODEL}/activation_maximisation", json=body)
    answer.raise_for_status()
    return answer.json()["job_id"]


def wait(http: httpx.Client, base: str, job_id: str, done, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            job = http.get(f"{base}/jobs/{job_id}").json()
        except httpx.TransportError:
            continue
        if done(job):
            return job
        time.sleep(0.005)
    raise TimeoutError(job_id)


def hand_offs(lantern: Cluster, store: redis.Redis, prefix: str, samples: int) -> list[float]:
    """Queued-to-running seconds of short jobs each submitted to a random replica and run by
    another one (jobs that the submitting replica took itself are not counted)."""
    seconds: list[float] = []
    with client() as http:
        while len(seconds) < samples:
            entry = random.choice(lantern.replicas)
            job_id = submit(http, entry.base, steps=2)
            job = wait(http, entry.base, job_id, lambda j: j["status"] == "done")
            if lantern.running(job["runner"]) is entry:
                continue
            fields = record(store, prefix, job_id)
            seconds.append(float(fields["started"]) - float(fields["created"]))
    return seconds


def recoveries(lantern: Cluster, store: redis.Redis, prefix: str, kills: int) -> list[float]:
    """Seconds from SIGKILL of the replica running a job to the job running on another."""
    seconds: list[float] = []
    with client() as http:
        for _ in range(kills):
            job_id = submit(http, lantern.base, steps=100_000)
            job = wait(http, lantern.base, job_id, lambda j: j["step"] > 0)
            victim = lantern.running(job["runner"])
            victim.process.kill()
            killed = time.time()
            lantern.replicas.remove(victim)
            wait(http, lantern.base, job_id, lambda j: j["attempts"] == 2 and j["step"] > 0)
            seconds.append(float(record(store, prefix, job_id)["started"]) - killed)
            http.delete(f"{lantern.base}/jobs/{job_id}")
    return seconds


def describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name}: n={len(values)} median {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    replicas = args.kills + 2
    store_path = PROJECT_ROOT / "model_store"
    with cluster(store_path, replicas, LANTERN_DEFAULT_MODEL=MODEL) as lantern:
        store = redis.Redis.from_url(lantern.redis_url, decode_responses=True)
        handoff = hand_offs(lantern, store, lantern.prefix, args.samples)
        recovery = recoveries(lantern, store, lantern.prefix, args.kills)
    print(f"{replicas} replicas, lease {LEASE} s, heartbeat every {LEASE / 3:.2f} s")
    print(describe("hand-off (queued on one replica -> running on another)", handoff))
    print(describe("recovery (SIGKILL -> running on another replica)", recovery))
    print(f"recovery / lease: median {statistics.median(recovery) / LEASE:.2f}")


if __name__ == "__main__":
    main()
