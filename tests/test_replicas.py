"""Lantern as a real cluster: a redis-server, three `python -m app` replicas sharing jobs
through it, and a round-robin proxy in front (bench.cluster), all on loopback. Load spreads over
the replicas; a job started on one replica is read and cancelled on others; a queued job goes
to an idle replica; a replica killed mid-job has its job re-queued within the lease; a replica
stopped with SIGTERM hands its job back, and another finishes it with the same result.

The tests run in order on one cluster: the last two stop a replica each."""

from __future__ import annotations

import base64
import re
import signal
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from bench.cluster import REPLICA_ENV, Cluster, client, cluster

LEASE = float(REPLICA_ENV["LANTERN_JOB_LEASE_SECONDS"])
FINISHED = ("done", "cancelled", "failed")
FOREVER = 10**5  # steps: a job that runs until it is cancelled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lantern(tiny_store, redis_url) -> Iterator[Cluster]:
    with cluster(tiny_store, 3, redis_url, LANTERN_DEFAULT_MODEL="tiny_digits") as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with client() as session:
        yield session


def start_job(http: httpx.Client, base: str, steps: int = FOREVER, seed: int = 1) -> str:
    body = {"class": 3, "steps": steps, "seed": seed}
    answer = http.post(base + "/models/tiny_digits/activation_maximisation", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()["job_id"]


def wait_for(
    http: httpx.Client, base: str, job_id: str, done: Callable[[dict], bool], timeout: float = 30
) -> dict:
    deadline, job = time.monotonic() + timeout, {"status": "unseen", "step": 0}
    while time.monotonic() < deadline:
        try:
            job = http.get(f"{base}/jobs/{job_id}").json()
        except httpx.TransportError:  # the replica it reached was just killed: ask again
            continue
        if done(job):
            return job
        time.sleep(0.002)
    raise AssertionError(f"job {job_id} stayed {job['status']} at step {job['step']}")


def served(replica_base: str, route: str) -> float:
    """Requests with status 200 on `route` that a replica's /metrics counts."""
    text = httpx.get(replica_base + "/metrics", timeout=5).text
    labels = f'method="POST",route="{route}",status="200"'
    pattern = rf"^lantern_requests_total\{{{re.escape(labels)}\}} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_predict_and_explain_load_spreads_over_the_replicas(lantern, http, digit_png):
    image = {"b64": base64.b64encode(digit_png).decode()}
    requests = {
        "/predict": {"json": {"image": image["b64"]}},
        "/v1/models/{model_name:model_name}:predict": {"json": {"instances": [image]}},
        "/v1/models/{model_name:model_name}:explain": {
            "json": {"instances": [image], "parameters": {"method": "saliency"}}
        },
    }
    for route, body in requests.items():
        path = route.replace("{model_name:model_name}", "tiny_digits")
        for _ in range(6):
            assert http.post(lantern.base + path, **body).status_code == 200
        counts = [served(replica.base, route) for replica in lantern.replicas]
        assert sum(counts) == 6 and min(counts) >= 1, (route, counts)


def test_a_job_started_on_one_replica_is_read_and_cancelled_on_another(lantern, http):
    first, second, third = (replica.base for replica in lantern.replicas)
    job_id = start_job(http, first)
    seen = wait_for(http, second, job_id, lambda job: job["step"] > 0)
    assert seen["status"] == "running" and seen["runner"]
    cancelled = http.delete(f"{third}/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert http.get(f"{first}/jobs/{job_id}").json()["status"] == "cancelled"


def test_a_queued_job_goes_to_an_idle_replica(lantern, http):
    entry = lantern.replicas[0].base
    busy = start_job(http, entry)
    occupant = wait_for(http, entry, busy, lambda job: job["status"] == "running")["runner"]
    handed = start_job(http, entry)  # each replica runs one job at a time
    taker = wait_for(http, entry, handed, lambda job: job["status"] == "running")["runner"]
    assert taker != occupant
    for job_id in (busy, handed):
        assert http.delete(f"{entry}/jobs/{job_id}").json()["status"] == "cancelled"


def test_killing_the_replica_running_a_job_requeues_it_within_the_lease(lantern, http):
    job_id = start_job(http, lantern.base)
    running = wait_for(http, lantern.base, job_id, lambda job: job["step"] > 0)
    victim = lantern.running(running["runner"])
    victim.process.kill()
    killed = time.monotonic()
    taken_over = wait_for(
        http,
        lantern.base,
        job_id,
        lambda job: job["status"] == "running" and job["runner"] != running["runner"],
    )
    recovery = time.monotonic() - killed
    assert taken_over["attempts"] == 2
    assert recovery < 3 * LEASE, f"recovered after {recovery:.2f} s, the lease is {LEASE} s"
    assert http.delete(f"{lantern.base}/jobs/{job_id}").json()["status"] == "cancelled"


def test_a_sigterm_hands_the_job_to_another_replica_that_finishes_it_alike(lantern, http):
    job_id = start_job(http, lantern.base, steps=1000, seed=7)
    running = wait_for(http, lantern.base, job_id, lambda job: job["step"] > 0)
    leaving = lantern.running(running["runner"])
    leaving.process.send_signal(signal.SIGTERM)
    assert leaving.process.wait(30) == 0
    done = wait_for(http, lantern.base, job_id, lambda job: job["status"] in FINISHED, 60)
    assert (done["status"], done["attempts"]) == ("done", 2)
    assert done["runner"] != running["runner"] and len(done["history"]) == 1000
    again = wait_for(
        http,
        lantern.base,
        start_job(http, lantern.base, steps=1000, seed=7),
        lambda job: job["status"] in FINISHED,
        60,
    )
    assert again["result"] == done["result"]  # the same data gives the same result anywhere
