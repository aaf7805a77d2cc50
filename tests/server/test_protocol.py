"""app/server/protocol.py on a real `python -m app`: header size (431, before auth), header and
idle timeouts, pipelining, trailers, and the connection limit with its probe reserve."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.server import Server, server_process
from tests.hostile.clients import (
    body_of,
    connect,
    metric,
    read_answer,
    read_response,
    status_of,
)

HEADER_LIMIT = 8192
HEADER_TIMEOUT = 1.5
IDLE_TIMEOUT = 1.0
CONNECTIONS = 32
KEY = "k" * 24


@pytest.fixture(scope="module")
def server(tiny_store) -> Iterator[Server]:
    env = {
        "LANTERN_MODEL_STORE": str(tiny_store),
        "LANTERN_DEFAULT_MODEL": "tiny_digits",
        "LANTERN_MAX_HEADER_BYTES": str(HEADER_LIMIT),
        "LANTERN_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "LANTERN_IDLE_TIMEOUT_SECONDS": str(IDLE_TIMEOUT),
        "LANTERN_MAX_CONNECTIONS": str(CONNECTIONS),
        "LANTERN_API_KEYS": KEY,
    }
    with server_process(env) as started:
        yield started


def exchange(server: Server, data: bytes, timeout: float = 10.0) -> bytes:
    with connect(server.port, timeout) as sock:
        sock.sendall(data)
        return read_answer(sock)


def request(path: str, *headers: bytes) -> bytes:
    return b"\r\n".join([f"GET {path} HTTP/1.1".encode(), b"Host: x", *headers, b"", b""])


def test_headers_streamed_past_the_limit_get_431_before_auth(server):
    with connect(server.port) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(64):  # 64 lines of 64 KiB: far past the limit
                sock.sendall(b"X-Filler: " + b"a" * 65536 + b"\r\n")
        except OSError:  # the server has answered and closed
            pass
        answer = read_answer(sock)
    assert status_of(answer) == 431
    assert json.loads(body_of(answer))["error"]["code"] == "headers_too_large"


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/health/live", dict), ("/v2/health/live", str)],
    ids=["lantern shape", "protocol shape"],
)
def test_headers_sent_at_once_past_the_limit_get_431_in_the_paths_shape(server, path, shape):
    answer = exchange(server, request(path, b"X-Filler: " + b"a" * HEADER_LIMIT))
    assert status_of(answer) == 431
    assert isinstance(json.loads(body_of(answer))["error"], shape)


def test_headers_under_the_limit_are_served(server):
    answer = exchange(server, request("/health/live", b"X-Filler: " + b"a" * (HEADER_LIMIT // 2)))
    assert status_of(answer) == 200


def test_headers_that_never_finish_get_408_after_the_header_timeout(server):
    started = time.monotonic()
    answer = exchange(server, b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
    waited = time.monotonic() - started
    assert status_of(answer) == 408
    assert json.loads(body_of(answer))["error"]["code"] == "header_timeout"
    assert HEADER_TIMEOUT * 0.8 < waited < HEADER_TIMEOUT * 4


def test_headers_dripped_a_byte_at_a_time_are_cut_off_at_the_header_timeout(server):
    line = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    started = time.monotonic()
    with connect(server.port) as sock:
        try:
            for byte in line:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass
        answer = read_answer(sock)
    assert status_of(answer) == 408
    assert time.monotonic() - started < HEADER_TIMEOUT * 4  # not the 10 s the drip lasts


def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(server):
    started = time.monotonic()
    assert exchange(server, b"") == b""
    assert IDLE_TIMEOUT * 0.8 < time.monotonic() - started < IDLE_TIMEOUT * 4


def test_a_kept_alive_connection_serves_requests_in_a_row_then_closes_when_idle(server):
    with connect(server.port) as sock:
        for _ in range(3):
            sock.sendall(request("/health/live"))
            assert status_of(read_response(sock)) == 200
            time.sleep(IDLE_TIMEOUT / 3)
        started = time.monotonic()
        assert read_answer(sock) == b""
        assert time.monotonic() - started < IDLE_TIMEOUT * 4


def test_up_to_sixteen_pipelined_requests_are_answered_and_more_close_the_connection(server):
    assert exchange(server, request("/health/live") * 8).count(b"HTTP/1.1 200") == 8
    flood = exchange(server, request("/health/live") * 200)
    assert flood.count(b"HTTP/1.1 200") <= 17


def test_chunked_trailers_past_the_header_limit_close_the_connection(server):
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
    head += b"\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    with connect(server.port) as sock:
        sock.sendall(head + b"4\r\nabcd\r\n0\r\n")
        try:
            for _ in range(32):
                sock.sendall(b"X-Trailer: " + b"t" * 4096 + b"\r\n")
                time.sleep(0.01)
        except OSError:
            pass
        answer = read_answer(sock)
    assert b"HTTP/1.1 200" not in answer


def test_past_the_connection_limit_the_oldest_waiting_connection_makes_room(server):
    evicted_before = metric(server.base, 'lantern_connections_closed_total{reason="evicted"}')
    hanging = [connect(server.port) for _ in range(CONNECTIONS * 2)]
    try:
        for sock in hanging:
            sock.sendall(b"GET /health/live HTTP/1.1\r\n")  # unfinished headers
        probe = httpx.get(server.base + "/health/ready", timeout=10)
        assert probe.status_code == 200
        assert metric(server.base, "lantern_connections_open") <= CONNECTIONS
        evicted = metric(server.base, 'lantern_connections_closed_total{reason="evicted"}')
        assert evicted - evicted_before >= CONNECTIONS
    finally:
        for sock in hanging:
            sock.close()


def test_an_ordinary_request_with_a_key_is_served(server, digit_png):
    answer = httpx.post(
        server.base + "/predict",
        content=digit_png,
        headers={"content-type": "image/png", "authorization": f"Bearer {KEY}"},
    )
    assert answer.status_code == 200
