"""A minimal asyncio HTTP/1.1 keep-alive client for the load benchmarks: it spends far less CPU
per request than httpx, so that on a small machine the figures measure the server, not the
client. Requests are prebuilt bytes (`http_request`), so one client drives Lantern and KServe
alike. 127.0.0.1 only; every run is bounded in time and in requests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

HOST = "127.0.0.1"
MAX_SECONDS = 120.0  # no single run lasts longer, whatever it is asked


@dataclass
class Stats:
    """Latencies (ms) of the 200s, every status seen, and the 200s per second."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 1.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def failures(self) -> int:
        return sum(n for code, n in self.statuses.items() if code != 200)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    def record(self, status: int, started: float) -> None:
        self.statuses[status] += 1
        if status == 200:
            self.latencies.append((time.perf_counter() - started) * 1000)


def http_request(method: str, target: str, body: bytes = b"", content_type: str = "") -> bytes:
    """One whole HTTP/1.1 request to 127.0.0.1, ready to send."""
    head = f"{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return (head + "\r\n").encode() + body


def predict_request(model: str, blob: bytes) -> bytes:
    """Lantern's /predict with a raw image body."""
    return http_request("POST", f"/predict?model={model}&top_k=5", blob, "application/octet-stream")


def multipart_predict_request(model: str, blob: bytes, boundary: str = "lanternbench") -> bytes:
    """Lantern's /predict with the image as multipart field `file` (what a browser sends)."""
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + blob
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    return http_request("POST", f"/predict?model={model}&top_k=5", body, content_type)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection(HOST, port))

    async def send(self, request: bytes) -> tuple[int, bytes, bool]:
        """The status, the body, and whether the connection may be reused."""
        self.writer.write(request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head.split(" ", 2)[1])
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await self.reader.readexactly(length)
        return status, body, "connection: close" not in head

    def close(self) -> None:
        self.writer.close()


async def send_once(port: int, request: bytes) -> tuple[int, bytes]:
    """One request on a new connection: (status, body)."""
    connection = await Connection.open(port)
    try:
        status, body, _ = await connection.send(request)
    finally:
        connection.close()
    return status, body


async def closed_loop(
    port: int, requests: list[bytes], concurrency: int, seconds: float, limit: int = 10**9
) -> Stats:
    """`concurrency` clients, each sending its next request when the last one is answered,
    for `seconds` or until `limit` requests were sent."""
    seconds = min(seconds, MAX_SECONDS)
    stats = Stats(seconds=seconds)
    started_at = time.perf_counter()
    deadline = started_at + seconds
    budget = [limit]

    async def client(offset: int) -> None:
        connection = await Connection.open(port)
        sent = offset
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            status, _, reusable = await connection.send(requests[sent % len(requests)])
            stats.record(status, started)
            sent += 1
            if not reusable:
                connection.close()
                connection = await Connection.open(port)
        connection.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    stats.seconds = time.perf_counter() - started_at
    return stats


async def open_loop(
    port: int, requests: list[bytes], rate: float, seconds: float, max_open: int = 256
) -> Stats:
    """Requests started at a fixed `rate` whatever the answers; at most `max_open` in flight
    (beyond that a start is counted as status 0, "client saturated")."""
    seconds = min(seconds, MAX_SECONDS)
    stats = Stats(seconds=seconds)
    idle: list[Connection] = []
    in_flight: set[asyncio.Task[None]] = set()

    async def one(request: bytes, started: float) -> None:
        connection = idle.pop() if idle else await Connection.open(port)
        status, _, reusable = await connection.send(request)
        stats.record(status, started)
        if reusable:
            idle.append(connection)
        else:
            connection.close()

    begun = time.perf_counter()
    for index in range(int(rate * seconds)):
        due = begun + index / rate  # latency counts from here: a late start is the server's
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if len(in_flight) >= max_open:
            stats.statuses[0] += 1
            continue
        task = asyncio.create_task(one(requests[index % len(requests)], due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    for connection in idle:
        connection.close()
    return stats
