"""A minimal asyncio HTTP/1.1 keep-alive client for bench/load.py: it spends far less CPU per
request than httpx, so that on a small machine the figures measure the server, not the
client. 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

HOST = "127.0.0.1"


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
    def failures(self) -> int:
        return sum(n for code, n in self.statuses.items() if code != 200)

    @property
    def p50(self) -> float:
        return float(np.percentile(self.latencies, 50)) if self.latencies else float("nan")

    @property
    def p99(self) -> float:
        return float(np.percentile(self.latencies, 99)) if self.latencies else float("nan")

    def record(self, status: int, started: float) -> None:
        self.statuses[status] += 1
        if status == 200:
            self.latencies.append((time.perf_counter() - started) * 1000)


def predict_request(model: str, blob: bytes) -> bytes:
    head = (
        f"POST /predict?model={model}&top_k=5 HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(blob)}\r\n\r\n"
    )
    return head.encode() + blob


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection(HOST, port))

    async def send(self, request: bytes) -> tuple[int, bool]:
        """The status, and whether the connection may be reused."""
        self.writer.write(request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head.split(" ", 2)[1])
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        await self.reader.readexactly(length)
        return status, "connection: close" not in head

    def close(self) -> None:
        self.writer.close()


async def closed_loop(
    port: int, model: str, blobs: list[bytes], concurrency: int, seconds: float
) -> Stats:
    """`concurrency` clients, each sending its next request when the last one is answered."""
    requests = [predict_request(model, blob) for blob in blobs]
    stats = Stats(seconds=seconds)
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        connection = await Connection.open(port)
        sent = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, reusable = await connection.send(requests[sent % len(requests)])
            stats.record(status, started)
            sent += 1
            if not reusable:
                connection.close()
                connection = await Connection.open(port)
        connection.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return stats


async def open_loop(
    port: int, model: str, blobs: list[bytes], rate: float, seconds: float, max_open: int = 256
) -> Stats:
    """Requests started at a fixed `rate` whatever the answers; at most `max_open` in flight
    (beyond that a start is counted as status 0, "client saturated")."""
    requests = [predict_request(model, blob) for blob in blobs]
    stats = Stats(seconds=seconds)
    idle: list[Connection] = []
    in_flight: set[asyncio.Task[None]] = set()

    async def one(request: bytes) -> None:
        connection = idle.pop() if idle else await Connection.open(port)
        started = time.perf_counter()
        status, reusable = await connection.send(request)
        stats.record(status, started)
        if reusable:
            idle.append(connection)
        else:
            connection.close()

    begun = time.perf_counter()
    for index in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, begun + index / rate - time.perf_counter()))
        if len(in_flight) >= max_open:
            stats.statuses[0] += 1
            continue
        task = asyncio.create_task(one(requests[index % len(requests)]))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    for connection in idle:
        connection.close()
    return stats
