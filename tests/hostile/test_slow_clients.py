"""Slow clients against a real server: unfinished headers and silent connections by the
thousand (slowloris), bodies that stall, and the issue's slow-body attack (48 connections
that declare 19 MiB, send it, then trickle). The probes and a normal /predict answer during
each, the connection count shows in /metrics, memory stays under the container's limit."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.hostile.clients import (
    body_of,
    connect,
    metric,
    read_answer,
    status_of,
    wait_until,
)
from tests.hostile.conftest import measured, predict_ok

SLOWLORIS = 2000
BODY = 19 * 1024 * 1024


def open_many(port: int, count: int, first_bytes: bytes) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        with contextlib.suppress(OSError):
            sock = connect(port, timeout=30)
            if first_bytes:
                sock.sendall(first_bytes)
            sockets.append(sock)
    return sockets


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def test_thousands_of_unfinished_headers_leave_the_probes_and_predict_answering(
    hostile, figures, digit
):
    with measured(hostile, figures, f"slowloris: {SLOWLORIS} unfinished headers") as attack:
        hanging = open_many(hostile.port, SLOWLORIS, b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        try:
            live = httpx.get(hostile.base + "/health/live", timeout=10)
            attack.extra["open_connections"] = metric(hostile.base, "lantern_connections_open")
            attack.extra["normal_predict"] = predict_ok(hostile, digit)
        finally:
            close_all(hanging)
    assert live.status_code == 200 and attack.extra["normal_predict"] == 200
    assert attack.extra["open_connections"] <= 512 + 16  # LANTERN_MAX_CONNECTIONS + probe reserve


def test_silent_connections_are_closed_by_the_idle_timeout(hostile, figures):
    with measured(hostile, figures, "200 silent connections"):
        silent = open_many(hostile.port, 200, b"")
        try:
            wait_until(lambda: metric(hostile.base, "lantern_connections_open") > 150)
            wait_until(lambda: metric(hostile.base, "lantern_connections_open") < 10, timeout=20)
        finally:
            close_all(silent)


def test_unfinished_headers_get_408_at_the_header_timeout(hostile):
    with connect(hostile.port) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 408 and b"header_timeout" in body_of(answer)


def post_head(length: int) -> bytes:
    return (
        "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_a_stalled_body_gets_408(hostile, digit):
    with connect(hostile.port, timeout=30) as sock:
        sock.sendall(post_head(len(digit)) + digit[:10])
        answer = read_answer(sock)
    assert status_of(answer) == 408 and b"upload_timeout" in body_of(answer)


def answered(sock: socket.socket) -> str | None:
    """What the server has said so far: its status, "closed", or None (nothing yet)."""
    if not select.select([sock], [], [], 0)[0]:
        return None
    try:
        data = sock.recv(65536)
    except OSError:
        return "closed"
    return str(status_of(data)) if data else "closed"


def slow_body(port: int, stop: threading.Event) -> str:
    """Declare BODY + 4096 bytes, send BODY of them a MiB at a time, then a byte a second
    until told to stop (never the last ones): what the server did ("held" if nothing)."""
    chunk = 1024 * 1024
    with connect(port, timeout=60) as sock:
        try:
            sock.sendall(post_head(BODY + 4096))
            for _ in range(BODY // chunk):
                sock.sendall(bytes(chunk))
                if (outcome := answered(sock)) is not None:
                    return outcome
            while not stop.wait(1.0):
                if (outcome := answered(sock)) is not None:
                    return outcome
                sock.sendall(b"\x00")
        except OSError:
            return answered(sock) or "closed"
    return "held"


def test_the_slow_body_attack_is_bounded_and_predict_still_answers(hostile, figures, digit):
    stop = threading.Event()
    with measured(hostile, figures, "48 slow bodies of 19 MiB") as attack:
        with ThreadPoolExecutor(48) as pool:
            attackers = [pool.submit(slow_body, hostile.port, stop) for _ in range(48)]
            wait_until(lambda: sum(f.done() for f in attackers) >= 40, timeout=90)
            attack.extra["receiving_bytes"] = metric(hostile.base, "lantern_receiving_bytes")
            attack.extra["normal_predict"] = predict_ok(hostile, digit)
            stop.set()
            outcomes = [future.result() for future in attackers]
        attack.extra["outcomes"] = {o: outcomes.count(o) for o in sorted(set(outcomes))}
    assert attack.extra["normal_predict"] == 200
    # 128 MiB of bodies holds 6 of 19 MiB: most are refused, while the rest upload or trickle
    assert outcomes.count("503") + outcomes.count("closed") >= 30
    assert set(outcomes) <= {"held", "503", "closed"}
    assert attack.extra["receiving_bytes"] <= 128 * 1024 * 1024
